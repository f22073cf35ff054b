"""Why a quote cannot be sent or decided."""

from __future__ import annotations

from casedesk.common.errors import CasedeskError


class QuoteRefused(CasedeskError):
    """The quote is expired (`quote.expired`), already answered or withdrawn
    (`quote.closed`), or the ticket takes no quote now (`quote.not_offered`)."""

    kind = "quote_refused"
    status = 409
