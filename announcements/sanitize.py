"""The safe rich-text subset of announcement bodies, cleaned with nh3 (the Python binding of
the Rust ``ammonia`` sanitizer, maintained and fast; bleach is deprecated since 2023).

Allowed: paragraphs, bold/italic, lists, h2/h3 headings, quotes, links and images. Links and
images must be ``https`` (the mini-program's ``rich-text`` component and WeChat's domain
rules only load https); every other tag, attribute (``style``, ``on*``) and scheme
(``javascript:``, ``data:``, ``http:``) is dropped, and the content of ``script``/``style``
with it. No Django imports."""

from __future__ import annotations

import nh3

TAGS = frozenset(
    {"p", "br", "b", "strong", "i", "em", "ul", "ol", "li", "a", "h2", "h3", "blockquote", "img"}
)
ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
URL_SCHEMES = frozenset({"https"})


def clean_body(html: str) -> str:
    """``html`` reduced to the safe subset."""
    return nh3.clean(
        html or "",
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def plain_text(html: str) -> str:
    """The text of ``html`` without any tag (what WeChat's content check screens)."""
    return nh3.clean(html or "", tags=set()).strip()
