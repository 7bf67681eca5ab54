"""The contract describes itself in Chinese, with English available.

Front-end developers build the mini-program from ``openapi.yaml`` alone, generated with
``--lang zh-hans``: every operation has a summary, every property (request or response, nested
too) and parameter a description, every enum value a label, all of them translated. The same
texts in English (``--lang en``) carry no Chinese, which shows they go through the catalogue
rather than being written in Chinese in the code.

A failure lists the offending places (``components/schemas/PollOut/properties/title``): give the
serializer field a ``help_text=_("...")`` (or the operation a ``summary=_("...")``), or, for a
name that recurs with one meaning, an entry in ``community/openapi_glossary.py``; then translate
it at the end of ``community/locale/zh_Hans/LC_MESSAGES/django.po``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from tests.contract.schema import load_schema, load_yaml

CJK = re.compile(r"[\u3400-\u9fff]")
#: WeChat words with no English equivalent that the English texts use as names (glossed there).
TERMS = ("接龙",)
METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
ENUM_LINE = re.compile(r"^\* `(?P<value>.*)` - (?P<label>.*)$")


def operations(schema: dict) -> Iterator[tuple[str, dict]]:
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def _property_maps(node, where: str) -> Iterator[tuple[str, dict]]:
    """Every ``properties`` object below ``node`` (component, inline body, nested, array items),
    examples left out: they are data, not documentation."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield where, node["properties"]
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _property_maps(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _property_maps(value, f"{where}/{index}")


def undescribed(schema: dict) -> list[str]:
    """Places a front-end developer finds nothing said: operations without a summary,
    parameters and properties without a description."""
    missing = []
    for name, operation in operations(schema):
        if not operation.get("summary"):
            missing.append(f"{name}: summary")
        for parameter in operation.get("parameters", ()):
            if not parameter.get("description"):
                missing.append(f"{name}: parameter {parameter['name']}")
    for where, properties in _property_maps(schema, ""):
        for prop, body in properties.items():
            if not body.get("description"):
                missing.append(f"{where}/properties/{prop}")
    return missing


def texts(schema: dict) -> Iterator[tuple[str, str]]:
    """Every text a reader sees: summaries and descriptions of operations, parameters,
    properties, and each enum value's label (one ``* `value` - label`` line each)."""
    for name, operation in operations(schema):
        for key in ("summary", "description"):
            if operation.get(key):
                yield f"{name}: {key}", operation[key]
        for parameter in operation.get("parameters", ()):
            if parameter.get("description"):
                yield f"{name}: parameter {parameter['name']}", parameter["description"]
    for where, properties in _property_maps(schema, ""):
        for prop, body in properties.items():
            if body.get("description"):
                yield f"{where}/properties/{prop}", body["description"]
    for component, body in schema.get("components", {}).get("schemas", {}).items():
        if "enum" not in body:
            continue
        labels = {}
        for line in (body.get("description") or "").splitlines():
            match = ENUM_LINE.match(line)
            if match:
                labels[match["value"]] = match["label"]
        for value in body["enum"]:
            key = "null" if value is None else str(value)
            text = labels.get(key, body.get("description") if value is None else "")
            yield f"/components/schemas/{component}: enum value {key}", text or ""


def _without_terms(text: str) -> str:
    for term in TERMS:
        text = text.replace(term, "")
    return text


def untranslated(schema: dict) -> list[str]:
    """Texts with no Chinese beyond the WeChat words English texts use too."""
    return [
        f"{where}: {text[:60]!r}"
        for where, text in texts(schema)
        if not CJK.search(_without_terms(text))
    ]


def chinese_in(schema: dict) -> list[str]:
    return [
        f"{where}: {text[:60]!r}"
        for where, text in texts(schema)
        if CJK.search(_without_terms(text))
    ]


def _report(problems: list[str]) -> str:
    return f"{len(problems)} place(s):\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def english(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "openapi.en.yaml"
    call_command("spectacular", "--lang", "en", "--file", str(out))
    return load_yaml(out.read_text())


def test_every_operation_parameter_and_property_is_described():
    problems = undescribed(load_schema())
    assert not problems, _report(problems)


def test_every_summary_description_and_enum_label_is_in_chinese():
    problems = untranslated(load_schema())
    assert not problems, _report(problems)


def test_the_english_contract_has_no_chinese(english):
    """The control: the same texts are English in ``--lang en``, so the Chinese above comes from
    the catalogue, and an English reader gets a whole English contract."""
    assert not undescribed(english), _report(undescribed(english))
    problems = chinese_in(english)
    assert not problems, _report(problems)
    # and it is the same contract: the same operations, with texts in the other language
    assert {name for name, _ in operations(english)} == {
        name for name, _ in operations(load_schema())
    }


def test_the_checks_find_a_missing_or_untranslated_text():
    """The checks themselves: a bare property, a nested one, an English summary, an enum value
    without a label, a parameter without a description are all reported."""
    schema = {
        "paths": {
            "/x": {
                "get": {
                    "summary": "List things",
                    "parameters": [{"name": "q", "in": "query"}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {
                                                "type": "array",
                                                "description": "条目",
                                                "items": {
                                                    "type": "object",
                                                    "properties": {"deep": {"type": "string"}},
                                                },
                                            }
                                        },
                                    }
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {"type": "object", "properties": {"name": {"type": "string"}}},
                "KindEnum": {"enum": ["a", "b"], "description": "* `a` - 甲\n* `b` - b"},
                "List": {
                    "type": "object",
                    "properties": {"text": {"type": "string", "description": "The 接龙 text"}},
                },
            }
        },
    }
    missing = undescribed(schema)
    assert "GET /x: parameter q" in missing
    assert "/components/schemas/Thing/properties/name" in missing
    assert any(m.endswith("/items/properties/deep") for m in missing)
    wrong = untranslated(schema)
    assert any(w.startswith("GET /x: summary") for w in wrong)
    assert any("enum value b" in w for w in wrong)
    assert not any("enum value a" in w for w in wrong)
    assert any(w.startswith("/components/schemas/List/properties/text") for w in wrong)
    assert chinese_in(schema) == [
        "/paths//x/get/responses/200/content/application/json/schema/properties/items: '条目'",
        "/components/schemas/KindEnum: enum value a: '甲'",
    ]
