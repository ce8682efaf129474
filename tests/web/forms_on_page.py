"""Reading a form off a page as a browser fills it in, to post it back (with changes) in a test."""

from __future__ import annotations

from html.parser import HTMLParser

from flask.testing import FlaskClient


class _Form(HTMLParser):
    """The named inputs and textareas of the form posting to `action`, with their values, in page order."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields, self.labels = action, False, {}, {}
        self._textarea: str | None = None
        self._label: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.inside = (found.get("action") or "") == self.action
        elif self.inside and tag == "input" and found.get("name"):
            self.fields[found["name"]] = found.get("value") or ""
        elif self.inside and tag == "textarea" and found.get("name"):
            self._textarea = found["name"]
            self.fields[self._textarea] = ""
        elif self.inside and tag == "label":
            self._label = found.get("for")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data
        if self._label and data.strip():
            self.labels[self._label] = self.labels.get(self._label, "") + data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "label":
            self._label = None


def form_on_page(client: FlaskClient, url: str, action: str) -> tuple[dict[str, str], dict[str, str]]:
    """The form's fields as the page fills them in, and each quantity field's label (by field name)."""
    parser = _Form(action)
    parser.feed(client.get(url).get_data(as_text=True))
    assert parser.fields, f"no form posting to {action} on {url}"
    return parser.fields, {name: parser.labels.get(name, "") for name in parser.fields}


def quantity_fields(fields: dict[str, str], labels: dict[str, str]) -> dict[str, str]:
    """{label: field name} of the instalment's quantity fields."""
    return {labels[name]: name for name in fields if "-quantity_" in name}
