"""Why the service sheet refuses a write."""

from __future__ import annotations

from casedesk.common.errors import CasedeskError


class SheetLocked(CasedeskError):
    """The sheet is approved or invoiced (or waits for the customer's answer): its entries
    stay as they are. `state` says which."""

    code = "sheet_locked"
    status = 409

    def __init__(self, state: str):
        reasons = {
            "approved": "the service sheet is approved and locked",
            "invoiced": "the service sheet is invoiced and locked",
            "submitted": "the service sheet waits for the customer's approval; "
            "it changes again only once it is returned",
        }
        super().__init__(reasons.get(state, f"the service sheet is {state}"), state=state)
        self.state = state


class EntryImmutable(CasedeskError):
    """Time entries are written once: a change is a correction, a new linked entry."""

    code = "entry_immutable"
    status = 409

    def __init__(self, correct_at: str = ""):
        super().__init__(
            "time entries are never edited or removed: log a correction instead",
            correct_at=correct_at,
        )
