"""The new part of a reply: quoted history and signatures cut off (the raw mail is kept).

Cuts at the first of: our own "reply above this line" mark; a reply header in the shapes
Gmail, Apple Mail and Outlook write, in the five languages of the desks; a signature
separator or a mobile mail program's sign-off; a trailing block of '>' lines. Inline
answers between quoted lines are kept whole, since cutting there loses what was said.
"""

from __future__ import annotations

import re

_WROTE = (
    r"\b(wrote|skrev|schreef|napsal\(a\)|napsal|napsala|schrieb|a écrit|escribió)\b.{0,200}:\s*$"
)
_REPLY_HEADERS = [
    re.compile(r"^##-.*-##\s*$"),
    # "On Mon, 2 Nov 2026 at 09:00, Alice <a@b> wrote:" / Danish, Swedish "Den ..." /
    # Dutch "Op ..." / Czech "Dne ..." / German "Am ..."
    re.compile(r"^(On|Den|Op|Dne|Am|Le|El|Le)\b.{0,300}" + _WROTE, re.IGNORECASE),
    re.compile(r"^.{0,200}<[^>@\s]+@[^>\s]+>\s+(wrote|skrev|schreef|napsal)\b.{0,20}:\s*$", re.I),
    re.compile(
        r"^-{2,}\s*(Original Message|Oprindelig meddelelse|Oorspronkelijk bericht|"
        r"Původní zpráva|Ursprungligt meddelande|Ursprüngliche Nachricht)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
    re.compile(r"^_{20,}\s*$"),
]
# Outlook's header block: "From: ..." followed within two lines by "Sent:"/"Date:"
_FROM = re.compile(r"^\*?(From|Fra|Van|Od|Från|Von)\s*:\*?\s", re.IGNORECASE)
_SENT = re.compile(
    r"^\*?(Sent|Date|Sendt|Dato|Verzonden|Datum|Odesláno|Skickat|Gesendet)\s*:\*?\s",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
_SIGN_OFFS = re.compile(
    r"^(Sent from my|Sendt fra min|Verzonden vanaf mijn|Verstuurd vanaf mijn|Odesláno z|"
    r"Skickat från min|Von meinem|Get Outlook for|Hent Outlook til|Download Outlook)\b",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^(-{5,}\s*Forwarded message\s*-{5,}|Begin forwarded message:|-{5,}\s*Videresendt|"
    r"-{5,}\s*Doorgestuurd bericht|-{5,}\s*Přeposlaná zpráva|-{5,}\s*Vidarebefordrat)",
    re.IGNORECASE,
)


def _cut_at(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if any(p.match(stripped) for p in _REPLY_HEADERS):
            return i
        # a header split over two lines: "On Mon, 2 Nov 2026 at 09:00, Alice" / "<a@b> wrote:"
        if i + 1 < len(lines) and re.match(r"^(On|Den|Op|Dne|Am)\b", stripped, re.I):
            joined = f"{stripped} {lines[i + 1].strip()}"
            if any(p.match(joined) for p in _REPLY_HEADERS[1:3]):
                return i
        if _FROM.match(stripped) and any(_SENT.match(x.strip()) for x in lines[i + 1 : i + 4]):
            return i
        if _SIGNATURE.match(line.rstrip("\n")) or _SIGN_OFFS.match(stripped):
            return i
        if _FORWARD.match(stripped):
            return len(lines)  # a forward is content: keep it, and stop looking
    return len(lines)


def _drop_trailing_quote(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in lines[end:]):
        return lines[:end]
    return lines


def reply_text(text: str) -> tuple[str, bool]:
    """The new part of a reply, and whether anything was cut."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _drop_trailing_quote(lines[: _cut_at(lines)])
    new = "\n".join(kept).strip()
    return new, new != text.strip()
