"""A page's HTML as the element tree a browser builds, for tests that read what it shows
(text with entities decoded, attributes) rather than match its source."""

from __future__ import annotations

import html.parser
from dataclasses import dataclass, field

VOID = {"input", "br", "img", "meta", "link", "hr"}


@dataclass
class Element:
    tag: str
    attributes: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def all(self, tag: str, **attributes: str) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                classes = child.attributes.get("class", "").split()
                if child.tag == tag and all(
                    value in classes if name == "class_" else child.attributes.get(name) == value
                    for name, value in attributes.items()
                ):
                    found.append(child)
                found.extend(child.all(tag, **attributes))
        return found

    def one(self, tag: str, **attributes: str) -> Element:
        found = self.all(tag, **attributes)
        assert len(found) == 1, (tag, attributes, found)
        return found[0]


class _TreeBuilder(html.parser.HTMLParser):
    """The element tree a browser would build (for the well-formed HTML a card is)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("root", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1].tag == tag, f"</{tag}> closes <{self.open[-1].tag}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parsed(markup: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.open == [builder.root], "unclosed elements"
    return builder.root
