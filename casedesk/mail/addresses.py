"""Mail addresses, read strictly. The display name never decides who someone is; a From
header that could be read as two addresses, or as a different one by another parser, is
not an address at all (the parsing confusions behind CVE-2023-27043)."""

from __future__ import annotations

import re
from email import policy
from email.headerregistry import AddressHeader, HeaderRegistry
from email.utils import getaddresses

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_REGISTRY = HeaderRegistry()


class AddressError(ValueError):
    pass


def strict_address(value: str) -> str:
    """One bare address, lower-cased, its domain in ASCII (punycode for IDN)."""
    value = (value or "").strip()
    if not value or any(c in value for c in '\r\n\x00<>"(), ;:'):
        raise AddressError("not a single plain address")
    local, at, domain = value.rpartition("@")
    if not at or "@" in local or len(local) > 64 or not _LOCAL.match(local):
        raise AddressError("not a single plain address")
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressError("the domain is not valid") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise AddressError("the domain is not valid")
    return f"{local}@{domain}".lower()


def sender_from(raw_header: str | None) -> tuple[str, str]:
    """(address, display name) of a From header; AddressError when it is missing, names
    several addresses, or parses differently in the two parsers."""
    if raw_header is None or not raw_header.strip():
        raise AddressError("no sender address")
    if len(raw_header) > 2000 or raw_header.count("(") > 50:
        raise AddressError("the sender header is malformed")
    old = [(n, a) for n, a in getaddresses([raw_header]) if n or a]
    try:
        header = _REGISTRY("from", raw_header)
        if not isinstance(header, AddressHeader):
            raise AddressError("the sender header is malformed")
        new = [(a.display_name, a.addr_spec) for a in header.addresses]
        defects = list(header.defects)
    except Exception:  # the modern parser gives up on some inputs; then it is malformed
        raise AddressError("the sender header is malformed") from None
    if len(old) != 1 or len(new) != 1:
        raise AddressError("the sender header names more or fewer than one address")
    if old[0][1].lower() != new[0][1].lower() or any(
        "InvalidHeaderDefect" in type(d).__name__ for d in defects
    ):
        raise AddressError("the sender header is ambiguous")
    return strict_address(new[0][1]), " ".join(new[0][0].split())[:200]


__all__ = ["AddressError", "policy", "sender_from", "strict_address"]
