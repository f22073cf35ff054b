"""Changes to organisations and people: a person's own settings, and what supplier
administrators manage (organisations and people).

People made here have no password; they set one through the password reset, or an
administrator sets it in the admin. Deactivating someone locks them out at once (sessions,
API tokens), because every read and write checks `is_active`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from casedesk.common.errors import Forbidden, InvalidInput, Problem

from .models import CUSTOMER_ROLES, Organisation, User

LANGUAGES = tuple(code for code, _ in settings.LANGUAGES)
ROLES = tuple(r for r, _ in CUSTOMER_ROLES)


def _ensure_admin(actor) -> None:
    if not (actor is not None and actor.is_active and actor.is_superuser):
        raise Forbidden("people.admin_only")


def _language(errors: dict, value: str | None) -> None:
    if value is not None and value not in LANGUAGES:
        errors["language"] = Problem("language.unknown", value=str(value)[:20])


def organisation_create(
    *,
    actor,
    name: str,
    slug: str = "",
    language: str = "en",
    members_see_all_tickets: bool = True,
    notify_all_members_on_new: bool = False,
) -> Organisation:
    _ensure_admin(actor)
    errors: dict[str, Problem] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = Problem("organisation.name.invalid", limit=200)
    slug = slugify(slug or name)[:80]
    if not slug:
        errors["slug"] = Problem("organisation.slug.invalid")
    elif Organisation.objects.filter(slug=slug).exists():
        errors["slug"] = Problem("organisation.slug.taken", slug=slug)
    _language(errors, language)
    if errors:
        raise InvalidInput(errors)
    return Organisation.objects.create(
        name=name,
        slug=slug,
        language=language,
        members_see_all_tickets=members_see_all_tickets,
        notify_all_members_on_new=notify_all_members_on_new,
    )


def organisation_update(*, actor, organisation: Organisation, **changes) -> Organisation:
    _ensure_admin(actor)
    allowed = {"name", "language", "members_see_all_tickets", "notify_all_members_on_new"}
    errors: dict[str, Problem] = {
        k: Problem("input.read_only") for k in changes if k not in allowed
    }
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"] or len(changes["name"]) > 200:
            errors["name"] = Problem("organisation.name.invalid", limit=200)
    _language(errors, changes.get("language"))
    if organisation.holds_strangers and changes.get("members_see_all_tickets"):
        errors["members_see_all_tickets"] = Problem("organisation.strangers_share")
    if errors:
        raise InvalidInput(errors)
    for key, value in changes.items():
        setattr(organisation, key, value)
    organisation.save()
    return organisation


def person_create(
    *,
    actor,
    username: str,
    email: str,
    kind: str,
    organisation: Organisation | None = None,
    customer_role: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "",
) -> User:
    """A customer of `organisation` (with a role) or a supplier staff member (no desk role
    yet: staff reach desks through their desk roles)."""
    _ensure_admin(actor)
    errors: dict[str, Problem] = {}
    username = (username or "").strip()
    if not username or len(username) > 150:
        errors["username"] = Problem("person.username.invalid", limit=150)
    if kind == "customer":
        if organisation is None:
            errors["organisation"] = Problem("person.organisation.required")
        if customer_role not in ROLES:
            errors["customer_role"] = Problem("person.customer_role.unknown", choices=list(ROLES))
    elif kind == "staff":
        if organisation is not None or customer_role:
            errors["kind"] = Problem("person.kind.staff_has_organisation")
    else:
        errors["kind"] = Problem("person.kind.unknown")
    if language:
        _language(errors, language)
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            person = User(
                username=username,
                email=(email or "").strip(),
                kind=kind,
                organisation=organisation,
                customer_role=customer_role if kind == "customer" else "",
                first_name=(first_name or "")[:150],
                last_name=(last_name or "")[:150],
                language=language or "",
            )
            person.set_unusable_password()
            person.save()
    except IntegrityError:
        raise InvalidInput(
            {"username": Problem("person.username.taken", username=username)}
        ) from None
    return person


def person_update(*, actor, person: User, **changes) -> User:
    """Change someone's name, address, language, customer role, or whether they may log in."""
    _ensure_admin(actor)
    allowed = {"email", "first_name", "last_name", "language", "customer_role", "is_active"}
    errors: dict[str, Problem] = {
        k: Problem("input.read_only") for k in changes if k not in allowed
    }
    if "customer_role" in changes and (
        not person.is_customer or changes["customer_role"] not in ROLES
    ):
        errors["customer_role"] = Problem(
            "person.customer_role.customers_only", choices=list(ROLES)
        )
    if changes.get("language"):
        _language(errors, changes["language"])
    if changes.get("is_active") is False and person.pk == actor.pk:
        errors["is_active"] = Problem("person.deactivate_self")
    if errors:
        raise InvalidInput(errors)
    for key, value in changes.items():
        setattr(person, key, value if value is not None else "")
    person.save()
    return person


def user_set_language(*, user, language: str) -> None:
    """Remember the language this person reads Casedesk in (pages and, later, mail)."""
    if language not in LANGUAGES:
        raise InvalidInput({"language": Problem("language.unknown", value=str(language)[:20])})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def user_set_time_zone(*, user, time_zone: str) -> None:
    """Remember the time zone this person reads times in; blank: their browser's."""
    from casedesk.common.settings_checks import time_zone_names

    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in time_zone_names():
        raise InvalidInput({"time_zone": Problem("time_zone.unknown", value=time_zone[:64])})
    if user.time_zone != time_zone:
        user.time_zone = time_zone
        user.save(update_fields=["time_zone"])
