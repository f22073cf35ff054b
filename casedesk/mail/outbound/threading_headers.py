"""Threading headers for a new mail about a ticket."""

from __future__ import annotations

from ..threading import new_message_id, root_id


def thread_headers(ticket, inbound=None) -> dict[str, str]:
    """A fresh Message-ID; References the ticket's root (and the received mail it answers,
    so the person's own mail program threads it under what they wrote)."""
    root = root_id(ticket.pk)
    refs = [root] + ([inbound.message_id] if inbound and inbound.message_id.startswith("<") else [])
    return {
        "message_id": new_message_id(ticket.pk),
        "in_reply_to": refs[-1],
        "references": " ".join(refs),
    }
