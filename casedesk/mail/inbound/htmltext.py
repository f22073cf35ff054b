"""HTML-only mail made readable as plain text: paragraphs and line breaks kept, lists as
dashes, quotes as '>' lines (so trimming finds them), links as 'text (address)', images as
'[image: name]'. Scripts, styles and heads vanish; nothing is ever fetched."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol", "h1",
    "h2", "h3", "h4", "h5", "h6", "pre", "hr", "center", "address", "dl", "dt", "dd",
}  # fmt: skip
SKIP = {"script", "style", "head", "title", "template", "noscript", "xml", "o:p"}
MAX_HTML = 2_000_000


class _Text(HTMLParser):
    def __init__(self, cid_names: dict[str, str]):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0
        self.pre = 0
        self.links: list[str | None] = []
        self.cid_names = cid_names

    def newline(self) -> None:
        self.out.append("\n")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIP:
            self.skip += 1
        elif tag == "br":
            self.newline()
        elif tag in BLOCKS:
            self.newline()
            if tag == "pre":
                self.pre += 1
            if tag == "hr":
                self.out.append("----\n")
        elif tag == "blockquote":
            self.newline()
            self.quote += 1
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            href = (attrs.get("href") or "").strip()
            self.links.append(href if href.startswith(("http://", "https://", "mailto:")) else None)
            self.links_start = len(self.out)
        elif tag == "img":
            src = (attrs.get("src") or "").strip()
            name = self.cid_names.get(src[4:].strip("<>")) if src.lower().startswith("cid:") else ""
            label = name or (attrs.get("alt") or "").strip()[:80]
            self.out.append(f"[image: {label}]" if label else "[image]")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in BLOCKS:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self.newline()
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self.newline()
        elif tag == "a" and self.links:
            href = self.links.pop()
            text = "".join(self.out[getattr(self, "links_start", len(self.out)) :]).strip()
            if href and href.removeprefix("mailto:") not in text:
                self.out.append(f" ({href})")

    def handle_data(self, data):
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        if self.quote:
            data = data.replace("\n", "\n" + "> " * self.quote)
            if not self.out or self.out[-1].endswith("\n"):
                data = "> " * self.quote + data.lstrip()
        self.out.append(data)

    def text(self) -> str:
        text = "\n".join(line.strip() for line in "".join(self.out).splitlines())
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str, cid_names: dict[str, str] | None = None) -> str:
    parser = _Text(cid_names or {})
    try:
        parser.feed(html[:MAX_HTML])
        parser.close()
    except Exception:  # a parser that gives up still leaves what it read
        parser.out.append("\n[…]")
    return parser.text()
