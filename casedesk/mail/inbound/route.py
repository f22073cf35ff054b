"""Which desk a mail is for, when no envelope says so (IMAP, files): the first desk
address among Delivered-To, X-Original-To, To and Cc, else the given default."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.utils import getaddresses

from .receive import desk_for_address

ROUTING_HEADERS = ("delivered-to", "x-original-to", "to", "cc")


def desk_for_message(raw: bytes, default):
    try:
        headers = BytesHeaderParser().parsebytes(raw[:262144], headersonly=True)
        for name in ROUTING_HEADERS:
            values = [str(v) for v in headers.get_all(name, [])][:20]
            for _, address in getaddresses(values)[:50]:
                desk = desk_for_address(address)
                if desk is not None:
                    return desk
    except Exception:  # unreadable headers: the default desk takes it (and holds it)
        return default
    return default
