"""Markdown is rendered, then sanitised: no script, no handler, no dangerous link
survives (SECURITY-TESTS T22, T23)."""

from __future__ import annotations

import html5lib
import pytest

from casedesk.common.markdown import render

VECTORS = [
    "[a](javascript:alert(1))",
    "[a](javascript:javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](jav&#x09;ascript:alert(1))",
    "[a](\njavascript:alert(1))",
    "[a][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<img src=x onerror=alert(1)>",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[a](vbscript:msgbox(1))",
    "<script>alert(1)</script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<svg onload=alert(1)>",
    '<a href="\x01javascript:alert(1)">x</a>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<form action="https://evil.example"><input name=p></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "</script><script>alert(1)</script>",
    "![x](javascript:alert(1))",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
]
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "form",
    "base",
    "meta",
    "style",
    "img",
    "svg",
    "input",
    "noscript",
}


def parsed(html: str):
    return html5lib.parse(html, namespaceHTMLElements=False)


@pytest.mark.parametrize("vector", VECTORS)
def test_rendered_html_carries_nothing_executable(vector):
    out = render(vector)
    for el in parsed(out).iter():
        assert el.tag not in FORBIDDEN_TAGS, (vector, out)
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (vector, out)
            assert name != "style", (vector, out)
            if name == "href":
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                assert scheme in ("http", "https", "mailto", ""), (vector, out)


def test_ordinary_markdown_still_renders():
    out = render("**bold** and [a link](https://example.org)\n\n- one\n- two\n\n`code`")
    assert "<strong>bold</strong>" in out
    assert 'href="https://example.org"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert "<li>one</li>" in out and "<code>code</code>" in out
    assert render("a < b & c") == "<p>a &lt; b &amp; c</p>"


def test_mail_shows_links_as_their_words_and_their_address():
    from casedesk.common.markdown import render_for_mail

    html = render_for_mail(
        "[Reset your **password**](https://evil.example/r?a=1&b=2) <https://x.example/>"
    )
    assert "<a" not in html
    assert "Reset your <strong>password</strong> (https://evil.example/r?a=1&amp;b=2)" in html
    assert "https://x.example/" in html and "(https://x.example/)" not in html
