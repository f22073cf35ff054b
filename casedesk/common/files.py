"""Which files Casedesk keeps, and under what name and type.

A file is accepted only when its extension is on the allowlist *and* its first bytes agree
with that extension (or, for text types, when it is text). The display name is cleaned of
paths, control characters and direction overrides; the stored name is always generated.
Types that a browser would run (HTML, SVG, scripts) are never accepted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ZIP = (b"PK\x03\x04", b"PK\x05\x06")
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)


@dataclass(frozen=True)
class Kind:
    content_type: str
    signatures: tuple[bytes, ...] = ()  # empty: a text type, checked as text
    inline: bool = False  # a browser may show it in the page (images only)


KINDS = {
    ".pdf": Kind("application/pdf", (b"%PDF-",)),
    ".png": Kind("image/png", (b"\x89PNG\r\n\x1a\n",), inline=True),
    ".jpg": Kind("image/jpeg", (b"\xff\xd8\xff",), inline=True),
    ".jpeg": Kind("image/jpeg", (b"\xff\xd8\xff",), inline=True),
    ".gif": Kind("image/gif", (b"GIF87a", b"GIF89a"), inline=True),
    ".webp": Kind("image/webp", (b"RIFF",), inline=True),
    ".zip": Kind("application/zip", ZIP),
    ".docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    ".odt": Kind("application/vnd.oasis.opendocument.text", ZIP),
    ".ods": Kind("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    ".doc": Kind("application/msword", OLE),
    ".xls": Kind("application/vnd.ms-excel", OLE),
    ".msg": Kind("application/vnd.ms-outlook", OLE),
    ".txt": Kind("text/plain"),
    ".log": Kind("text/plain"),
    ".csv": Kind("text/csv"),
    ".json": Kind("application/json"),
    ".eml": Kind("message/rfc822"),
}
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, formats (incl. RTL overrides)
MAX_NAME = 150


class FileRefused(ValueError):
    """A file Casedesk does not take: a registered code and its parameters."""

    def __init__(self, code: str, **params: str):
        super().__init__(code)
        self.code = code
        self.params = params


def clean_name(name: str) -> str:
    """A display name without paths, invisible or direction-changing characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME - len(keep) - 1].rstrip(" .") + (f".{keep}" if keep else "")
    return name or "attachment"


def extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot else ""


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "utf-16", "cp1252"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            # the sample may end inside a multi-byte character
            try:
                head[:-3].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False


def kind_of(name: str, head: bytes) -> Kind:
    """The accepted kind of a file, from its cleaned name and its first bytes."""
    ext = extension(name)
    kind = KINDS.get(ext)
    if kind is None:
        allowed = ", ".join(sorted(KINDS))
        raise FileRefused("attachment.type_refused", extension=ext or "-", allowed=allowed)
    if kind.signatures:
        if not head.startswith(kind.signatures):
            raise FileRefused("attachment.content_mismatch", extension=ext)
        if ext == ".webp" and head[8:12] != b"WEBP":
            raise FileRefused("attachment.content_mismatch", extension=ext)
    elif not _is_text(head):
        raise FileRefused("attachment.not_text", extension=ext)
    return kind
