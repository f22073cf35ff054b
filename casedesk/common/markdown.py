"""Markdown from people, rendered to HTML that is safe to show anywhere.

The sanitiser runs on the rendered HTML, not on the Markdown: whatever the Markdown turns
into (raw HTML passed through, reference links, autolinks), only an allowlist of tags and
attributes survives, and links only keep http, https and mailto addresses.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import markdown as _markdown
import nh3

TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "sup",
    "sub",
}
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
SCHEMES = {"http", "https", "mailto"}
MAX_INPUT = 200_000


# Building a Markdown converter (its extensions and patterns) cost more than most
# conversions; one per thread is kept and reset between texts (a converter is not
# thread-safe, and `reset()` clears what one text left behind).
_converters = threading.local()


def _converter() -> _markdown.Markdown:
    md = getattr(_converters, "md", None)
    if md is None:
        md = _converters.md = _markdown.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", "nl2br"], output_format="html"
        )
    return md


# A ticket page renders every comment of the ticket at each view, and the same texts are
# viewed again and again (each reload, each person on the ticket): the safe HTML of recent
# texts is kept, by their whole text, per process. A longer text is rendered every time.
CACHED_TEXT = 20_000


def render(text: str) -> str:
    """Safe HTML for a comment or description written in Markdown."""
    text = text or ""
    if len(text) <= CACHED_TEXT:
        return _render_cached(text)
    return _render(text)


@lru_cache(maxsize=4096)
def _render_cached(text: str) -> str:
    return _render(text)


def _render(text: str) -> str:
    md = _converter()
    try:
        html = md.convert((text or "")[:MAX_INPUT])
    finally:
        md.reset()
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# nh3's output is normalised (attributes double-quoted and escaped), so its links can be
# found reliably; nested inline tags inside a link stay as they are.
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def render_for_mail(text: str) -> str:
    """As `render`, but with no live links: each reads as its text and its address, so a
    mail from the desk never carries a link someone else wrote behind friendly words."""

    def plain(match: re.Match[str]) -> str:
        address, label = match.group(1), match.group(2)
        if label.strip() == address:
            return address
        return f"{label} ({address})" if address else label

    return str(_LINK.sub(plain, render(text)))
