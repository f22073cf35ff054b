"""Why the service sheet refuses a write."""

from __future__ import annotations

from casedesk.common.errors import CasedeskError, Problem


class SheetLocked(CasedeskError):
    """The sheet is approved or invoiced (`sheet.locked`), or waits for the customer's
    answer (`sheet.waiting`): its entries stay as they are. `state` says which."""

    kind = "sheet_locked"
    status = 409

    def __init__(self, state: str):
        code = "sheet.waiting" if state == "submitted" else "sheet.locked"
        super().__init__(Problem(code, state=state))
        self.state = state


class EntryImmutable(CasedeskError):
    """Time entries are written once: a change is a correction, a new linked entry."""

    kind = "entry_immutable"
    status = 409

    def __init__(self, correct_at: str = ""):
        super().__init__(Problem("sheet.entry.immutable", correct_at=correct_at))
