"""Declaring a desk's releases and a customer's environments, fixing tickets in releases,
and recording deployments: one function each, keyword-only, one transaction.

Who may: leads of the desk declare lines, releases and environments and record
deployments (`release.record`); agents record fixes and their notes (`release.fix`).
Ticket moves never happen here: a deployment or a publication enqueues its delivery
(`delivery.py`), which moves each ticket it concerns in the ticket's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Max

from casedesk.accounts.models import Organisation
from casedesk.common import clock
from casedesk.common.errors import InvalidInput, NotFound, Problem
from casedesk.desks.models import Desk
from casedesk.tickets.models import Ticket
from casedesk.tickets.permissions import authorise
from casedesk.tickets.services import ticket_edit

from .models import Deployment, Environment, Release, TicketFix, VersionLine

FIX_FIELD = "fix_version"
MAX_NOTE = 4000

# Who hears of a new deployment, in the transaction that records it (webhooks, above this
# layer, register here): a deployment sent again is not new and is heard of once.
_deployment_observers: dict[str, Callable[[Deployment], None]] = {}


def observe_deployments(name: str, fn: Callable[[Deployment], None]) -> None:
    _deployment_observers[name] = fn


def _text(errors: dict, name: str, value: str, limit: int, what: Problem) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        errors[name] = what
    return value


def line_create(*, actor, desk: Desk, name: str) -> VersionLine:
    authorise(actor, "release.record", desk)
    errors: dict = {}
    name = _text(errors, "name", name, 60, Problem("release.line.name", limit=60))
    if not errors and VersionLine.objects.filter(desk=desk, name=name).exists():
        errors["name"] = Problem("release.line.exists")
    if errors:
        raise InvalidInput(errors)
    position = (VersionLine.objects.filter(desk=desk).aggregate(m=Max("position"))["m"] or 0) + 1
    return VersionLine.objects.create(desk=desk, name=name, position=position)


def release_create(
    *,
    actor,
    line: VersionLine,
    version: str,
    position: int | None = None,
    published_on: date | None = None,
) -> Release:
    """A release on `line`, placed after the line's last one unless `position` says where
    (an explicit order: labels are not sorted by rule)."""
    desk = line.desk
    authorise(actor, "release.record", desk)
    errors: dict = {}
    version = _text(errors, "version", version, 64, Problem("ticket.release.version", limit=64))
    if not errors and Release.objects.filter(desk=desk, version=version).exists():
        errors["version"] = Problem("release.version.exists")
    if position is not None and not 0 < position <= 1_000_000:
        errors["position"] = Problem("release.position.range", limit=1_000_000)
    elif position is not None and Release.objects.filter(line=line, position=position).exists():
        errors["position"] = Problem("release.position.taken")
    if errors:
        raise InvalidInput(errors)
    if position is None:
        last = Release.objects.filter(line=line).aggregate(m=Max("position"))["m"] or 0
        position = last + 10
    with transaction.atomic():
        release = Release.objects.create(
            desk=desk,
            line=line,
            version=version,
            position=position,
            published_on=published_on,
            created_at=clock.now(),
        )
        if published_on is not None:
            _enqueue_publication(release)
    return release


def release_publish(*, actor, release: Release, published_on: date | None = None) -> Release:
    """The update is out: tickets whose workflow waits for that move on (in the worker)."""
    authorise(actor, "release.record", release.desk)
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.published_on is None:
            locked.published_on = published_on or clock.now().date()
            locked.save(update_fields=["published_on"])
            _enqueue_publication(locked)
    return locked


def _enqueue_publication(release: Release) -> None:
    from .tasks import deliver_publication

    # The database task backend stores the task in this transaction.
    deliver_publication.enqueue(release_id=release.pk)


def environment_declare(
    *, actor, organisation: Organisation, desk: Desk, name: str, tier: str
) -> Environment:
    """An environment of `organisation` for `desk`'s product, with its declared tier."""
    authorise(actor, "release.record", desk)
    errors: dict = {}
    name = _text(errors, "name", name, 40, Problem("ticket.release.environment", limit=40))
    tier = _text(errors, "tier", tier, 40, Problem("ticket.release.environment", limit=40))
    if not desk.organisations.filter(pk=organisation.pk).exists():
        errors["organisation"] = Problem("ticket.release.organisation")
    elif (
        name
        and Environment.objects.filter(organisation=organisation, desk=desk, name=name).exists()
    ):
        errors["name"] = Problem("release.environment.exists")
    if errors:
        raise InvalidInput(errors)
    position = (
        Environment.objects.filter(organisation=organisation, desk=desk).aggregate(
            m=Max("position")
        )["m"]
        or 0
    ) + 1
    return Environment.objects.create(
        organisation=organisation, desk=desk, name=name, tier=tier, position=position
    )


def fix_record(
    *,
    actor,
    ticket: Ticket,
    release: Release,
    kind: str = TicketFix.Kind.FIX,
    notes: dict[str, str] | None = None,
    audience: str = TicketFix.Audience.ORGANISATION,
    expected_version: int | None = None,
) -> TicketFix:
    """`ticket` is fixed in `release` (once per line: a backport is a fix on another line),
    with a note for customers per language, read by the ticket's organisation only unless
    `audience` says every customer of the desk (the release note). The ticket's fix
    version field names it too when it names nothing yet or named the fix this one
    replaces on the same line, through the ticket's own edit service."""
    desk = ticket.desk
    authorise(actor, "release.fix", desk)
    errors: dict = {}
    if release.desk_id != desk.pk:
        raise NotFound("release.not_found")
    if kind not in TicketFix.Kind.values:
        errors["kind"] = Problem("release.fix.kind")
    if audience not in TicketFix.Audience.values:
        errors["audience"] = Problem("release.fix.audience")
    languages = set(desk.workflow.workflow.languages)
    clean: dict[str, str] = {}
    for lang, text in (notes or {}).items():
        text = (text or "").strip()
        if lang not in languages:
            errors[f"notes.{lang}"] = Problem("release.note.language", value=lang)
        elif len(text) > MAX_NOTE:
            errors[f"notes.{lang}"] = Problem("input.too_long", limit=MAX_NOTE)
        elif text:
            clean[lang] = text
    if errors:
        raise InvalidInput(errors)
    now = clock.now()
    with transaction.atomic():
        fix = TicketFix.objects.filter(ticket=ticket, release=release).first()
        if fix is None:
            fix = TicketFix(
                ticket=ticket,
                desk=desk,
                organisation_id=ticket.organisation_id,
                release=release,
                line_id=release.line_id,
                position=release.position,
                created_at=now,
                created_by=actor,
            )
        fix.kind, fix.notes, fix.audience, fix.withdrawn_at = kind, clean, audience, None
        fix.open = ticket.category not in ("closed", "cancelled")
        fix.save()
        # one active fix per line: this one replaces an earlier choice on the same line
        TicketFix.objects.filter(
            ticket=ticket, line_id=release.line_id, withdrawn_at__isnull=True
        ).exclude(pk=fix.pk).update(withdrawn_at=now)
        named = (ticket.fields or {}).get(FIX_FIELD)
        # the field follows the active fix: it names this release when it named nothing,
        # or named the release on this line that this fix just replaced
        replaced = (
            named != release.version
            and Release.objects.filter(line_id=release.line_id, version=named).exists()
        )
        if (not named or replaced) and FIX_FIELD in desk.workflow.workflow.fields:
            ticket_edit(
                actor=actor,
                ticket=ticket,
                fields={FIX_FIELD: release.version},
                expected_version=expected_version,
            )
    return fix


def deployment_record(
    *,
    actor,
    environment: Environment,
    release: Release,
    pipeline_id: str,
    deployed_at: datetime | None = None,
) -> tuple[Deployment, bool]:
    """Record that `release` reached `environment`. The pipeline's own id makes it
    idempotent: the same id again returns the stored deployment and changes nothing
    (`created` False); the same id with other content is refused. The environment runs
    the deployment with the latest time, so an event that arrives late leaves it be."""
    desk = environment.desk
    authorise(actor, "release.record", desk)
    errors: dict = {}
    pipeline_id = _text(
        errors, "pipeline_id", pipeline_id, 100, Problem("release.pipeline_id.required", limit=100)
    )
    if release.desk_id != desk.pk:
        errors["release"] = Problem("release.other_desk")
    now = clock.now()
    deployed_at = deployed_at or now
    if deployed_at > now:
        errors["deployed_at"] = Problem("release.deployed_at.future")
    if errors:
        raise InvalidInput(errors)
    stored = _same(desk, pipeline_id, environment, release)
    if stored is not None:
        return stored, False
    from .tasks import deliver_deployment

    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                desk=desk,
                organisation_id=environment.organisation_id,
                environment=environment,
                release=release,
                deployed_at=deployed_at,
                received_at=now,
                pipeline_id=pipeline_id,
                recorded_by=actor,
            )
            env = Environment.objects.select_for_update().get(pk=environment.pk)
            latest = (
                Deployment.objects.filter(environment=env).order_by("-deployed_at", "-id").first()
            )
            if env.current_id != getattr(latest, "pk", None):
                env.current = latest
                env.save(update_fields=["current"])
            deliver_deployment.enqueue(deployment_id=deployment.pk)
            for observer in _deployment_observers.values():
                observer(deployment)
    except IntegrityError:
        # the same id sent twice at once: the other request stored it
        stored = _same(desk, pipeline_id, environment, release)
        if stored is None:
            raise
        return stored, False
    return deployment, True


def _same(desk: Desk, pipeline_id: str, environment: Environment, release: Release):
    stored = Deployment.objects.filter(desk=desk, pipeline_id=pipeline_id).first()
    if stored is None:
        return None
    if (stored.environment_id, stored.release_id) != (environment.pk, release.pk):
        raise InvalidInput({"pipeline_id": Problem("release.pipeline_id.reused")})
    return stored


def fix_withdraw(
    *, actor, ticket: Ticket, release: Release, expected_version: int | None = None
) -> TicketFix:
    """`ticket` is no longer fixed in `release` (recorded by mistake, say). A fix of the
    ticket on another line stays; the fix version field, when it names this release,
    names the other fix instead (or nothing), through the ticket's own edit service."""
    desk = ticket.desk
    authorise(actor, "release.fix", desk)
    with transaction.atomic():
        fix = (
            TicketFix.objects.select_for_update()
            .filter(ticket=ticket, release=release, withdrawn_at__isnull=True)
            .first()
        )
        if fix is None:
            raise NotFound("ticket.fix.not_found")
        fix.withdrawn_at = clock.now()
        fix.save(update_fields=["withdrawn_at"])
        if (ticket.fields or {}).get(FIX_FIELD) == release.version:
            other = (
                TicketFix.objects.filter(ticket=ticket, withdrawn_at__isnull=True)
                .select_related("release")
                .order_by("-created_at", "-id")
                .first()
            )
            ticket_edit(
                actor=actor,
                ticket=ticket,
                fields={FIX_FIELD: other.release.version if other else None},
                expected_version=expected_version,
            )
    return fix
