"""Organisations and people. Everyone reads those they may see; supplier administrators
create and change them."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field, StringConstraints

from casedesk.accounts import services
from casedesk.desks import selectors

from ..schemas import Id, In, QueryIn, Schema
from .tickets import errors

router = Router(tags=["organisations and people"])
Lang = Literal["en", "da", "nl", "cs", "sv"]
Text200 = Annotated[str, StringConstraints(max_length=200)]
Role = Literal["member", "approver", "org_admin"]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str
    language: str
    members_see_all_tickets: bool
    notify_all_members_on_new: bool


class OrganisationIn(In):
    name: Text200
    slug: Annotated[str, StringConstraints(max_length=80)] = ""
    language: Lang = "en"
    members_see_all_tickets: bool = True
    notify_all_members_on_new: bool = False


class OrganisationPatch(In):
    name: Text200 | None = None
    language: Lang | None = None
    members_see_all_tickets: bool | None = None
    notify_all_members_on_new: bool | None = None


class PersonOut(Schema):
    id: int
    username: str
    name: str
    email: str
    kind: str
    organisation: int | None
    customer_role: str
    language: str
    is_active: bool


class PersonIn(In):
    username: Annotated[str, StringConstraints(max_length=150)]
    email: Email | Literal[""] = ""
    kind: Literal["customer", "staff"]
    organisation: Id | None = None
    customer_role: Role | Literal[""] = ""
    first_name: Annotated[str, StringConstraints(max_length=150)] = ""
    last_name: Annotated[str, StringConstraints(max_length=150)] = ""
    language: Lang | Literal[""] = ""


class PersonPatch(In):
    email: Email | Literal[""] | None = None
    first_name: Annotated[str, StringConstraints(max_length=150)] | None = None
    last_name: Annotated[str, StringConstraints(max_length=150)] | None = None
    language: Lang | Literal[""] | None = None
    customer_role: Role | None = None
    is_active: bool | None = None


class PeopleQuery(QueryIn):
    organisation: Id | None = None
    kind: Literal["customer", "staff"] | None = None
    after: int = Field(0, ge=0, le=2**53, description="the last id of the previous page")
    limit: int = Field(50, ge=1, le=100)


def organisation_out(o) -> dict:
    return {
        "id": o.pk,
        "name": o.name,
        "slug": o.slug,
        "language": o.language,
        "members_see_all_tickets": o.members_see_all_tickets,
        "notify_all_members_on_new": o.notify_all_members_on_new,
    }


def person_out(p) -> dict:
    return {
        "id": p.pk,
        "username": p.username,
        "name": str(p),
        "email": p.email,
        "kind": p.kind,
        "organisation": p.organisation_id,
        "customer_role": p.customer_role,
        "language": p.language,
        "is_active": p.is_active,
    }


def changes(payload) -> dict:
    return payload.model_dump(exclude_unset=True)


@router.get("/me", response={200: PersonOut, **errors()}, summary="Who you are")
def me(request: HttpRequest):
    return person_out(request.user)


@router.get(
    "/organisations", response={200: list[OrganisationOut], **errors()}, summary="Organisations"
)
def organisations_list(request: HttpRequest):
    return [organisation_out(o) for o in selectors.organisations_visible_to(request.user)]


@router.post(
    "/organisations", response={201: OrganisationOut, **errors()}, summary="Add an organisation"
)
def organisation_create(request: HttpRequest, payload: OrganisationIn):
    found = services.organisation_create(actor=request.user, **payload.model_dump())
    return Status(201, organisation_out(found))


@router.get(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **errors()},
    summary="An organisation",
)
def organisation_get(request: HttpRequest, organisation_id: Id):
    found = selectors.organisation_get_for_actor(user=request.user, organisation_id=organisation_id)
    return organisation_out(found)


@router.patch(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **errors()},
    summary="Change an organisation",
)
def organisation_update(request: HttpRequest, organisation_id: Id, payload: OrganisationPatch):
    found = selectors.organisation_get_for_actor(user=request.user, organisation_id=organisation_id)
    data = {k: v for k, v in changes(payload).items() if v is not None}
    return organisation_out(
        services.organisation_update(actor=request.user, organisation=found, **data)
    )


@router.get("/users", response={200: list[PersonOut], **errors()}, summary="People")
def people_list(request: HttpRequest, query: Query[PeopleQuery]):
    """People you may see, by id; pass the last id as `after` for the next page."""
    rows = selectors.people_visible_to(request.user).filter(pk__gt=query.after)
    if query.organisation is not None:
        rows = rows.filter(organisation_id=query.organisation)
    if query.kind is not None:
        rows = rows.filter(kind=query.kind)
    return [person_out(p) for p in rows.order_by("pk")[: query.limit]]


@router.post("/users", response={201: PersonOut, **errors()}, summary="Add a person")
def person_create(request: HttpRequest, payload: PersonIn):
    data = payload.model_dump()
    org_id = data.pop("organisation")
    organisation = None
    if org_id is not None:
        organisation = selectors.organisation_get_for_actor(
            user=request.user, organisation_id=org_id
        )
    found = services.person_create(actor=request.user, organisation=organisation, **data)
    return Status(201, person_out(found))


@router.get("/users/{person_id}", response={200: PersonOut, **errors()}, summary="A person")
def person_get(request: HttpRequest, person_id: Id):
    return person_out(selectors.person_get_for_actor(user=request.user, person_id=person_id))


@router.patch(
    "/users/{person_id}", response={200: PersonOut, **errors()}, summary="Change a person"
)
def person_update(request: HttpRequest, person_id: Id, payload: PersonPatch):
    """Supplier administrators change someone's details, or deactivate them
    (`is_active: false`), which ends their sessions and tokens at once."""
    found = selectors.person_get_for_actor(user=request.user, person_id=person_id)
    data = {k: v for k, v in changes(payload).items() if v is not None}
    return person_out(services.person_update(actor=request.user, person=found, **data))
