"""Reply addresses that prove who answers: each notification's `Reply-To` is the desk's
address with a token for that one ticket and recipient, `desk+r<ticket>-<user>-<expiry>-<sig>@`,
signed (HMAC with the secret key) and good until its expiry day. A reply that comes back to
it was written by someone who got that notification: proof that the sender is that
recipient answering that ticket, and of nothing else."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

_TOKEN = r"\+r(\d{1,19})-(\d{1,19})-(\d{1,7})-([0-9a-f]{20})@"
_DAY = 86_400
MAX_LOCAL = 64  # RFC 5321: a longer local part may not arrive at all


@dataclass(frozen=True)
class ReplyToken:
    ticket_id: int
    user_id: int
    expires_day: int


def _day(now: datetime) -> int:
    return int(now.timestamp()) // _DAY


def _sig(ticket_id: int, user_id: int, expires_day: int) -> str:
    message = f"reply-to:{ticket_id}:{user_id}:{expires_day}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:20]


def reply_address_for(*, address: str, ticket_id: int, user_id: int, now: datetime) -> str:
    """The desk's address with a token for this ticket and person (the plain address when
    the token would make its local part too long)."""
    local, _, domain = address.rpartition("@")
    expires = _day(now) + settings.CASEDESK_MAIL_REPLY_DAYS
    token = f"r{ticket_id}-{user_id}-{expires}-{_sig(ticket_id, user_id, expires)}"
    if not local or len(local) + 1 + len(token) > MAX_LOCAL:
        return address
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def reply_token_read(
    addresses: list[str], *, desk_address: str, now: datetime
) -> ReplyToken | None:
    """The valid token in a reply address of this desk among `addresses` (the envelope
    recipients and the To, Cc and Delivered-To headers), if any: signed by us, unexpired."""
    local, _, domain = desk_address.lower().rpartition("@")
    pattern = re.compile(re.escape(local) + _TOKEN + re.escape(domain))
    for address in addresses:
        found = pattern.fullmatch(address.strip().strip("<>").lower())
        if not found:
            continue
        ticket_id, user_id, expires = (int(found.group(n)) for n in (1, 2, 3))
        if not hmac.compare_digest(found.group(4), _sig(ticket_id, user_id, expires)):
            continue
        if expires < _day(now):
            continue
        return ReplyToken(ticket_id, user_id, expires)
    return None
