"""Message-IDs: ours are stable per mail and name the ticket they belong to.

Every mail about a ticket refers to the ticket's root id, `<cd.<id>.<sig>@domain>`, which
is signed (HMAC of the ticket id with the secret key), so a reply can be traced to its
ticket but an id cannot be made up for a ticket someone has never been mailed about.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from django.conf import settings

_ROOT = re.compile(r"^cd\.(\d{1,19})\.([0-9a-f]{16})@(.+)$")
_IDS = re.compile(r"<([^<>\s]{1,400})>")


def _sig(ticket_id: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"ticket-root:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:16]


def domain() -> str:
    return settings.CASEDESK_MAIL_DOMAIN


def root_id(ticket_id: int) -> str:
    return f"<cd.{ticket_id}.{_sig(ticket_id)}@{domain()}>"


def new_message_id(ticket_id: int | None) -> str:
    return f"<cd.{ticket_id or 0}.m{uuid.uuid4().hex}@{domain()}>"


def ticket_of_root(message_id: str) -> int | None:
    """The ticket a root id names, if it is one of ours and its signature holds."""
    found = _ROOT.match(message_id.strip("<>"))
    if not found or found.group(3).lower() != domain().lower():
        return None
    ticket_id = int(found.group(1))
    return ticket_id if hmac.compare_digest(found.group(2), _sig(ticket_id)) else None


def is_ours(message_id: str) -> bool:
    return message_id.strip("<>").lower().endswith("@" + domain().lower()) and (
        message_id.strip("<>").startswith("cd.")
    )


def ids_in(header: str | None) -> list[str]:
    """The message ids in an In-Reply-To or References header, in order, with brackets."""
    return [f"<{m}>" for m in _IDS.findall(header or "")][:50]
