"""System checks for mail: taking mail in with nothing to prove who sent it would let the
From header decide, so it is said at every start and in `check --deploy`."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

NO_PROOF = "casedesk.mail.W001"


@checks.register(checks.Tags.security)
def mail_sender_proof(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.CASEDESK_MAIL_AUTHSERV_ID.strip() or settings.CASEDESK_MAIL_DNS_CHECK:
        return []
    return [
        checks.Warning(
            "Mail is taken in with no proof of who sent it: only replies to a "
            "notification's own reply address are believed; every other mail is held "
            "or marked unverified.",
            hint="Set CASEDESK_MAIL_AUTHSERV_ID to your MTA's authserv-id, or leave "
            "CASEDESK_MAIL_DNS_CHECK on (unset) so Casedesk checks DKIM, SPF and DMARC itself.",
            id=NO_PROOF,
        )
    ]
