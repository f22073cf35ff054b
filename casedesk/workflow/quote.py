"""A quote's rules, as pure functions: its states, what a customer sees, and who decides.

Staff send a quote (hours or an amount, a text, a validity date) through the transition
whose effect is `quote: send`; the customer's approver accepts it (`quote: accept`) or
declines it (`quote: decline`) through theirs. A newer quote withdraws an older open one.
A sent quote past its last valid day is expired: that follows from the date alone, so it
is computed wherever the quote is read or decided, never left to a sweep to catch up.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from .spec import CUSTOMER_ROLES, Workflow, expand_roles

State = Literal["sent", "accepted", "declined", "expired", "withdrawn"]
Move = Literal["send", "accept", "decline"]

STATES: tuple[State, ...] = ("sent", "accepted", "declined", "expired", "withdrawn")
MOVES: tuple[Move, ...] = ("send", "accept", "decline")
OPEN: frozenset[str] = frozenset({"sent"})

MAX_HOURS = Decimal("10000")
MAX_AMOUNT = Decimal("100000000")
MAX_VALID_DAYS = 366  # a quote is valid for at most about a year
CURRENCY_LENGTH = 3  # ISO 4217: DKK, EUR, SEK, CZK


def shown_state(state: str, valid_until: date, today: date) -> str:
    """The state a reader sees: a sent quote past its last valid day is expired."""
    if state in OPEN and today > valid_until:
        return "expired"
    return state


def decision_problem(state: str, valid_until: date, today: date) -> str | None:
    """Why the customer cannot accept or decline this quote now, as a code; None if they can."""
    shown = shown_state(state, valid_until, today)
    if shown == "expired":
        return "quote.expired"
    if shown not in OPEN:
        return "quote.closed"
    return None


def offer_problem(
    *, hours: Decimal | None, amount: Decimal | None, currency: str
) -> tuple[str, str] | None:
    """What is wrong with what a quote offers, as (field, code); None if it is right.
    A quote offers hours or an amount with its currency, never both."""
    if (hours is None) == (amount is None):
        return ("hours", "quote.offer.one_of")
    if hours is not None and not (Decimal(0) < hours <= MAX_HOURS):
        return ("hours", "quote.offer.hours")
    if amount is not None:
        if not (Decimal(0) < amount <= MAX_AMOUNT):
            return ("amount", "quote.offer.amount")
        if not (
            len(currency) == CURRENCY_LENGTH
            and currency.isascii()
            and currency.isalpha()
            and currency.isupper()
        ):
            return ("currency", "quote.offer.currency")
    elif currency:
        return ("currency", "quote.offer.currency_without_amount")
    return None


def validity_problem(valid_until: date, today: date) -> str | None:
    """A quote is valid from today for at most MAX_VALID_DAYS days."""
    if valid_until < today:
        return "quote.valid_until.past"
    if (valid_until - today).days > MAX_VALID_DAYS:
        return "quote.valid_until.too_far"
    return None


def quote_transitions(wf: Workflow, move: str) -> tuple[str, ...]:
    """The keys of the transitions whose effect is this quote move."""
    return tuple(
        key
        for key, t in wf.transitions.items()
        if any(e.kind == "quote" and e.value == move for e in t.effects)
    )


def deciding_roles(wf: Workflow) -> frozenset[str]:
    """The customer roles that may accept a quote: each role on the customer ladder that
    `by:` admits, directly or by standing above it."""
    admitted: set[str] = set()
    for key in quote_transitions(wf, "accept"):
        by = expand_roles(wf.transitions[key].by)
        for i, role in enumerate(CUSTOMER_ROLES):
            if by & {*CUSTOMER_ROLES[: i + 1], "customer"}:
                admitted.add(role)
    return frozenset(admitted)
