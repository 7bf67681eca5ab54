"""Text that members and moderators publish (titles, labels, nicknames, descriptions, answers).

One normal form, so that what looks the same is stored the same and nothing invisible is
published: Unicode NFKC (full-width ``ＡＢＣ`` becomes ``ABC``, the ideographic space a space;
the full-width punctuation Chinese is written with stays as typed),
without zero-width, bidirectional-control and other invisible format characters (they let
``爬山`` and ``爬山\\u200b`` look identical, or reverse what a line seems to say), without
control characters, and without surrounding whitespace. Single-line text also has every run of
whitespace collapsed to one space; multi-line text keeps its line breaks.

The API applies it through :class:`community.api.serializers.MemberTextField`; services call
:func:`member_text` for the paths that do not pass a serializer (the admin)."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from community.errors import DomainError

#: Invisible characters removed from every text: soft hyphen, combining grapheme joiner, Arabic
#: letter mark, Hangul fillers, Mongolian vowel separator, zero-width space/joiners and the
#: left-to-right/right-to-left marks (U+200B-U+200F), bidirectional embeddings and overrides
#: (U+202A-U+202E), word joiner and invisible operators (U+2060-U+2064), bidirectional isolates
#: (U+2066-U+2069), deprecated format characters (U+206A-U+206F), the byte order mark / zero
#: width no-break space (U+FEFF), interlinear annotation marks and tag characters.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e007f]"
)
#: Control characters (C0, DEL, C1) other than the line break, which multi-line text keeps.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


#: Full-width punctuation that Chinese text is written with (，？！：；（） ...). NFKC would turn it
#: into ASCII punctuation ("周六去哪里？" into "周六去哪里?"), so it is kept as typed; it still
#: folds to ASCII in :func:`text_key`, where only the comparison matters.
FULL_WIDTH_PUNCTUATION = re.compile("([\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e]+)")


def _nfkc(text: str) -> str:
    """NFKC, except for the full-width punctuation of Chinese text."""
    parts = FULL_WIDTH_PUNCTUATION.split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def normalize_text(value: str, *, multiline: bool = False) -> str:
    """``value`` in the published normal form (see the module docstring); may be empty."""
    text = _nfkc(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = CONTROL.sub("", INVISIBLE.sub("", text))
    if not multiline:
        return " ".join(text.split())
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_key(value: str) -> str:
    """What two labels are compared by: normalised, case-folded, whitespace collapsed, so
    ``爬山`` and ``爬山\\u200b``, ``ＡＢＣ`` and ``abc``, ``A  B`` and ``a b`` are the same."""
    folded = unicodedata.normalize("NFKC", normalize_text(value).casefold())
    return " ".join(folded.split())


def blank_message() -> str:
    return _("This text is empty once invisible characters and spaces are removed.")


def member_text(
    value: str,
    *,
    field: str,
    multiline: bool = False,
    blank: bool = False,
    max_length: int | None = None,
) -> str:
    """The normal form of a text a member or moderator publishes, for services.

    Refuses (``DomainError`` code ``blank`` on ``field``) a text that is empty afterwards
    unless ``blank`` allows it, and one longer than ``max_length`` afterwards (NFKC can
    lengthen text: ``㍻`` becomes ``平成``), so the database column never overflows."""
    text = normalize_text(value or "", multiline=multiline)
    if not text and not blank:
        raise DomainError(blank_message(), code="blank", field=field)
    if max_length is not None and len(text) > max_length:
        raise DomainError(
            _("Ensure this text has no more than %(n)d characters.") % {"n": max_length},
            code="max_length",
            field=field,
        )
    return text
