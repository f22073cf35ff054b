"""The service sheet's rules, as pure functions: its states and moves, and billed time.

A ticket has one sheet per cycle. Staff log work on it while it is open or returned; the
workflow submits it for the customer's approval, approves it (a person, or the approval
timer) or returns it; approved and invoiced sheets are locked. Billed time is computed from
worked time by a rounding rule, never typed, so every way of logging work bills alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["open", "submitted", "returned", "approved", "invoiced"]
Move = Literal["submit", "approve", "return", "lock"]

STATES: tuple[State, ...] = ("open", "submitted", "returned", "approved", "invoiced")
MOVES: tuple[Move, ...] = ("submit", "approve", "return", "lock")
LOCKED: frozenset[str] = frozenset({"approved", "invoiced"})

# Where each move may start, and where it leads. A move from anywhere else does nothing:
# a workflow may return a ticket that was only asked for information (its sheet is open),
# or lock a sheet that was approved already.
_MOVES: dict[Move, tuple[frozenset[str], State]] = {
    "submit": (frozenset({"open", "returned"}), "submitted"),
    "approve": (frozenset({"open", "submitted", "returned"}), "approved"),
    "return": (frozenset({"submitted"}), "returned"),
    "lock": (frozenset({"open", "submitted", "returned"}), "approved"),
}

MAX_MINUTES_PER_ENTRY = 24 * 60


def sheet_after(state: str, move: str) -> str:
    """The sheet's state after `move`; the same state when the move does not apply."""
    sources, target = _MOVES[move]  # type: ignore[index]
    return target if state in sources else state


def is_locked(state: str) -> bool:
    return state in LOCKED


@dataclass(frozen=True)
class Rounding:
    """How worked minutes become billed minutes: up (or to the nearest) multiple of
    `increment`, and never less than `minimum` for an entry with any work on it."""

    increment: int = 1
    minimum: int = 0
    mode: Literal["up", "nearest"] = "up"

    def __post_init__(self) -> None:
        if not 1 <= self.increment <= MAX_MINUTES_PER_ENTRY:
            raise ValueError("the rounding increment is 1 to 1440 minutes")
        if not 0 <= self.minimum <= MAX_MINUTES_PER_ENTRY:
            raise ValueError("the minimum is 0 to 1440 minutes")


NO_ROUNDING = Rounding()


def billed_minutes(minutes: int, *, billable: bool, rule: Rounding = NO_ROUNDING) -> int:
    """Billed minutes of one entry: none for unbilled work or no work, else the worked
    minutes rounded by `rule`, at least its minimum."""
    if not billable or minutes <= 0:
        return 0
    step = rule.increment
    if rule.mode == "up":
        rounded = -(-minutes // step) * step
    else:  # nearest, halves up
        rounded = ((minutes + step // 2) // step) * step or step
    return max(rounded, rule.minimum)
