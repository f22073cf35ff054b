"""Who sent a mail: the one active person with that address who belongs to the desk (a
customer of an organisation using it, or its staff); several such people are nobody.
Strangers become contacts only where the desk's policy says so."""

from __future__ import annotations

from django.db.models import Q

from casedesk.accounts.models import User


def identify(address: str, desk) -> tuple[User | None, bool]:
    """(person, ambiguous)."""
    people = list(
        User.objects.filter(email__iexact=address, is_active=True)
        .filter(
            Q(kind="customer", organisation__in=desk.organisations.all())
            | Q(kind="staff", is_superuser=True)
            | Q(kind="staff", desk_memberships__desk=desk)
        )
        .select_related("organisation")
        .distinct()[:2]
    )
    if len(people) > 1:
        return None, True
    return (people[0] if people else None), False


def contact_for(address: str, name: str, organisation) -> User:
    """A customer account for a stranger: no password (no portal login), member role."""
    base = address[:140]
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}.{n}"
    user = User(
        username=username,
        email=address,
        kind="customer",
        organisation=organisation,
        customer_role="member",
        first_name=name[:150],
    )
    user.set_unusable_password()
    user.save()
    return user
