"""The zh-hans catalog is complete and compiled."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "community" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries(text: str):
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid "(.*)"', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? "(.*)"', block, re.M)
        if msgid and msgstr:
            continuation = block[msgstr.end() :].strip()
            yield msgid.group(1), msgstr.group(1) + continuation, block


def test_every_message_has_a_chinese_translation():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    untranslated = [
        block
        for msgid, msgstr, block in _entries(text)
        if msgid and not msgstr and '""\n"' not in block.split("msgstr")[1]
    ]
    assert not untranslated, "\n\n".join(untranslated[:5])
    assert "#, fuzzy" not in text


def test_compiled_catalog_is_used():
    assert (LOCALE / "django.mo").stat().st_size > 1000
    with translation.override("zh-hans"):
        assert translation.gettext("Community not found.") == "社群不存在。"
    with translation.override("en"):
        assert translation.gettext("Community not found.") == "Community not found."
