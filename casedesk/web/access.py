"""Who reaches a page, for both sides: one kind of person per page, and tickets only
through the selector that scopes them, turning its NotFound into the plain 404 page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest

from casedesk.accounts.models import User
from casedesk.common.errors import NotFound
from casedesk.tickets import selectors


def is_staff(user: object) -> bool:
    """Whether a request's user is signed-in supplier staff (else a customer's page)."""
    return isinstance(user, User) and user.is_supplier_staff


def only_for(kind: str) -> Callable:
    """A page for customers ("customer") or supplier staff ("staff") alone; anyone else
    finds nothing here, exactly as if it did not exist."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.kind != kind:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def ticket_or_404(request: HttpRequest, key: str, *, people: bool = True):
    try:
        return selectors.ticket_get_for_actor(user=request.user, key=key, people=people)
    except NotFound:
        raise Http404 from None
