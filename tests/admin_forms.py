"""Post an admin change form as a browser would: read the fields of the rendered page, change
some, submit. Tests then exercise exactly the form the moderator sees (inlines included)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    """The successful controls of the page's form: inputs (checked boxes only), selected
    options, textareas. Skips submit buttons and the inline's ``__prefix__`` template row."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, object] = {}
        self._select: str | None = None
        self._select_multiple = False
        self._textarea: str | None = None

    def _put(self, name: str, value: str, *, multiple: bool = False) -> None:
        if "__prefix__" in name:
            return
        if multiple:
            self.data.setdefault(name, [])
            self.data[name].append(value)
        else:
            self.data[name] = value

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._put(name, a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in a
        elif tag == "option" and self._select and "selected" in a:
            self._put(self._select, a.get("value") or "", multiple=self._select_multiple)
        elif tag == "textarea" and name:
            self._textarea = name
            self._put(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] = (self.data.get(self._textarea) or "") + data.lstrip("\n")


def form_data(html: str) -> dict:
    """POST data of the admin form in ``html`` as it stands (initial values)."""
    parser = _FormFields()
    parser.feed(html)
    data = parser.data
    data.pop("csrfmiddlewaretoken", None)
    return data


def change_form(client, url: str) -> dict:
    """GET an admin change page and return its POST data."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return form_data(response.content.decode())
