"""The authorisation matrix (SECURITY-TESTS T1): every API operation, as every kind of
caller, aimed at a resource of another organisation or desk, answers 401, 403 or 404,
never data, and writes nothing. A 404 reads exactly like the one for a resource that does
not exist. The operations come from the API's own registry, so a new one without an entry
here fails the test."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from casedesk.accounts.models import Organisation
from casedesk.api.api import api
from casedesk.desks.models import StaffMembership
from casedesk.quotes.models import Quote
from casedesk.releases.models import Deployment, Release, TicketFix, VersionLine
from casedesk.releases.services import fix_record, line_create, release_create
from casedesk.sheets.estimates import estimate_set
from casedesk.sheets.models import Estimate, InvoiceRun, Sheet, TimeEntry, WorkKind
from casedesk.sheets.services import work_log
from casedesk.sla.models import BusinessCalendar, SlaRevision
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
from casedesk.tickets.models import Attachment, Comment, Participant, Ticket, TicketEvent
from casedesk.webhooks.models import WebhookSubscription
from casedesk.webhooks.services import subscription_create
from tests.conftest import make_customer, make_desk, make_staff

from .conftest import Api

# (method, path) -> (kind, build): `build(r)` gives the address and body for the resource
# set `r` (another organisation's, or one that does not exist). `object`: the answer
# must be 401/403/404; `collection`: it may be 200, but must hold nothing foreign.
OBJ, C = "object", "collection"
MATRIX = {
    ("GET", "/desks"): (C, lambda r: ("desks", None)),
    ("GET", "/desks/{desk_id}"): (OBJ, lambda r: (f"desks/{r.desk}", None)),
    ("GET", "/desks/{desk_id}/workflow"): (OBJ, lambda r: (f"desks/{r.desk}/workflow", None)),
    ("GET", "/desks/{desk_id}/status-guide"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/status-guide", None),
    ),
    ("GET", "/desks/{desk_id}/webhooks"): (OBJ, lambda r: (f"desks/{r.desk}/webhooks", None)),
    ("GET", "/desks/{desk_id}/environments"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/environments", None),
    ),
    ("POST", "/desks/{desk_id}/deployments"): (
        OBJ,
        lambda r: (
            f"desks/{r.desk}/deployments",
            {"organisation": "org-a", "environment": "PROD", "version": "1", "pipeline_id": "x"},
        ),
    ),
    ("GET", "/desks/{desk_id}/releases"): (OBJ, lambda r: (f"desks/{r.desk}/releases", None)),
    ("POST", "/desks/{desk_id}/releases"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/releases", {"line": "9", "version": "9.9"}),
    ),
    ("GET", "/desks/{desk_id}/releases/{version}/whats-new"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/releases/1.0/whats-new", None),
    ),
    ("GET", "/tickets/{key}/fixes"): (OBJ, lambda r: (f"tickets/{r.key}/fixes", None)),
    ("POST", "/tickets/{key}/fixes"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/fixes", {"version": "1.0", "notes": {"en": "pwned"}}),
    ),
    ("DELETE", "/tickets/{key}/fixes/{version}"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/fixes/1.0", None),
    ),
    ("GET", "/tickets/{key}/acceptances"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/acceptances", None),
    ),
    ("POST", "/desks/{desk_id}/webhooks"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/webhooks", {"url": "https://example.org/hook"}),
    ),
    ("GET", "/desks/{desk_id}/service-levels"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels", None),
    ),
    ("PUT", "/desks/{desk_id}/service-levels/calendar"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels/calendar", {"zone": "UTC", "always": True}),
    ),
    ("DELETE", "/desks/{desk_id}/service-levels/calendar"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels/calendar", None),
    ),
    ("PUT", "/desks/{desk_id}/service-levels/calendar/days/{day}"): (
        OBJ,
        lambda r: (
            f"desks/{r.desk}/service-levels/calendar/days/2026-12-24",
            {"kind": "closure"},
        ),
    ),
    ("DELETE", "/desks/{desk_id}/service-levels/calendar/days/{day}"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels/calendar/days/2026-12-24", None),
    ),
    ("DELETE", "/desks/{desk_id}/service-levels/plans/{slug}"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels/plans/evil", None),
    ),
    ("POST", "/desks/{desk_id}/service-levels/holidays"): (
        OBJ,
        lambda r: (
            f"desks/{r.desk}/service-levels/holidays",
            {"first_year": 2026, "last_year": 2026},
        ),
    ),
    ("PUT", "/desks/{desk_id}/service-levels/plans/{slug}"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels/plans/evil", {"name": "x", "targets": {}}),
    ),
    ("PUT", "/desks/{desk_id}/service-levels/organisations/{organisation_id}"): (
        OBJ,
        lambda r: (f"desks/{r.desk}/service-levels/organisations/{r.org}", {"plan": None}),
    ),
    ("GET", "/tickets/{key}/clocks"): (OBJ, lambda r: (f"tickets/{r.key}/clocks", None)),
    ("GET", "/tickets"): (C, lambda r: ("tickets", None)),
    ("POST", "/tickets"): (OBJ, lambda r: ("tickets", {"desk": r.desk, "title": "x"})),
    ("GET", "/tickets/{key}"): (OBJ, lambda r: (f"tickets/{r.key}", None)),
    ("PATCH", "/tickets/{key}"): (OBJ, lambda r: (f"tickets/{r.key}", {"title": "pwned"})),
    ("PUT", "/tickets/{key}/assignee"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/assignee", {"person": None}),
    ),
    ("PUT", "/tickets/{key}/customer-assignee"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/customer-assignee", {"person": None}),
    ),
    ("PUT", "/tickets/{key}/team"): (OBJ, lambda r: (f"tickets/{r.key}/team", {"team": None})),
    ("GET", "/tickets/{key}/transitions"): (OBJ, lambda r: (f"tickets/{r.key}/transitions", None)),
    ("POST", "/tickets/{key}/transitions"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/transitions", {"transition": "cancel", "comment": "x"}),
    ),
    ("GET", "/tickets/{key}/comments"): (OBJ, lambda r: (f"tickets/{r.key}/comments", None)),
    ("POST", "/tickets/{key}/comments"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/comments", {"body": "x"}),
    ),
    ("GET", "/tickets/{key}/attachments"): (OBJ, lambda r: (f"tickets/{r.key}/attachments", None)),
    ("POST", "/tickets/{key}/attachments"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/attachments", "file"),
    ),
    ("GET", "/attachments/{attachment_id}"): (OBJ, lambda r: (f"attachments/{r.attachment}", None)),
    ("GET", "/tickets/{key}/links"): (OBJ, lambda r: (f"tickets/{r.key}/links", None)),
    ("POST", "/tickets/{key}/links"): (OBJ, lambda r: (f"tickets/{r.key}/links", {"other": r.own})),
    ("POST", "/tickets/{key}/duplicate"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/duplicate", {"original": r.own}),
    ),
    ("GET", "/tickets/{key}/participants"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/participants", None),
    ),
    ("POST", "/tickets/{key}/participants"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/participants", {"person": r.me}),
    ),
    ("DELETE", "/tickets/{key}/participants/{person_id}"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/participants/{r.follower}", None),
    ),
    ("GET", "/tickets/{key}/history"): (OBJ, lambda r: (f"tickets/{r.key}/history", None)),
    ("GET", "/me"): (C, lambda r: ("me", None)),
    ("GET", "/organisations"): (C, lambda r: ("organisations", None)),
    ("POST", "/organisations"): (OBJ, lambda r: ("organisations", {"name": "Evil Corp"})),
    ("GET", "/organisations/{organisation_id}"): (
        OBJ,
        lambda r: (f"organisations/{r.org}", None),
    ),
    ("PATCH", "/organisations/{organisation_id}"): (
        OBJ,
        lambda r: (f"organisations/{r.org}", {"name": "pwned"}),
    ),
    ("GET", "/users"): (C, lambda r: ("users", None)),
    ("POST", "/users"): (
        OBJ,
        lambda r: (
            "users",
            {
                "username": "mole",
                "kind": "customer",
                "organisation": r.org,
                "customer_role": "member",
            },
        ),
    ),
    ("GET", "/users/{person_id}"): (OBJ, lambda r: (f"users/{r.user}", None)),
    ("PATCH", "/users/{person_id}"): (OBJ, lambda r: (f"users/{r.user}", {"is_active": False})),
    ("GET", "/webhooks/{webhook_id}"): (OBJ, lambda r: (f"webhooks/{r.webhook}", None)),
    ("PATCH", "/webhooks/{webhook_id}"): (
        OBJ,
        lambda r: (f"webhooks/{r.webhook}", {"url": "https://evil.example/"}),
    ),
    ("DELETE", "/webhooks/{webhook_id}"): (OBJ, lambda r: (f"webhooks/{r.webhook}", None)),
    ("GET", "/webhooks/{webhook_id}/deliveries"): (
        OBJ,
        lambda r: (f"webhooks/{r.webhook}/deliveries", None),
    ),
    ("GET", "/tickets/{key}/sheets"): (OBJ, lambda r: (f"tickets/{r.key}/sheets", None)),
    ("POST", "/tickets/{key}/time-entries"): (
        OBJ,
        lambda r: (
            f"tickets/{r.key}/time-entries",
            {"minutes": 30, "description": "x", "kind": "work"},
        ),
    ),
    ("POST", "/time-entries/{entry_id}/corrections"): (
        OBJ,
        lambda r: (f"time-entries/{r.entry}/corrections", {"minutes": 1, "description": "x"}),
    ),
    ("PATCH", "/time-entries/{entry_id}"): (OBJ, lambda r: (f"time-entries/{r.entry}", None)),
    ("DELETE", "/time-entries/{entry_id}"): (OBJ, lambda r: (f"time-entries/{r.entry}", None)),
    ("GET", "/tickets/{key}/estimate"): (OBJ, lambda r: (f"tickets/{r.key}/estimate", None)),
    ("PUT", "/tickets/{key}/estimate"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/estimate", {"hours": "99"}),
    ),
    ("POST", "/tickets/{key}/estimate/grant"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/estimate/grant", {}),
    ),
    ("GET", "/tickets/{key}/quotes"): (OBJ, lambda r: (f"tickets/{r.key}/quotes", None)),
    ("GET", "/tickets/{key}/quotes/{number}"): (OBJ, lambda r: (f"tickets/{r.key}/quotes/1", None)),
    ("POST", "/tickets/{key}/quotes"): (
        OBJ,
        lambda r: (
            f"tickets/{r.key}/quotes",
            {"hours": "5", "text": "x", "valid_until": "2026-12-31", "version": 1},
        ),
    ),
    ("POST", "/tickets/{key}/quotes/{number}/accept"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/quotes/1/accept", {}),
    ),
    ("POST", "/tickets/{key}/quotes/{number}/decline"): (
        OBJ,
        lambda r: (f"tickets/{r.key}/quotes/1/decline", {"reason": "x"}),
    ),
    ("GET", "/invoice-basis"): (
        OBJ,
        lambda r: (f"invoice-basis?organisation={r.org}&start=2026-11-01&end=2026-11-30", None),
    ),
    ("POST", "/invoice-runs"): (
        OBJ,
        lambda r: (
            "invoice-runs",
            {"organisation": r.org, "start": "2026-11-01", "end": "2026-11-30"},
        ),
    ),
    ("GET", "/invoice-runs/{run_id}"): (OBJ, lambda r: (f"invoice-runs/{r.run}", None)),
    ("GET", "/invoice-runs/{run_id}/{fmt}"): (OBJ, lambda r: (f"invoice-runs/{r.run}/csv", None)),
}


def registered_operations() -> set[tuple[str, str]]:
    found = set()
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    found.add((method, "/" + path.lstrip("/")))
    return found


def test_every_operation_has_a_matrix_entry():
    assert registered_operations() == set(MATRIX)


@pytest.fixture
def scene(world):
    """Tickets, files, followers, desks, organisations and webhooks on each side, each
    carrying a canary that must never reach the wrong caller."""
    org_c = Organisation.objects.create(name="CANARY-org-C", slug="org-c")
    carl = make_customer("carl", org_c)
    carl.first_name = "CANARY-carl"
    carl.save()
    world.bob.first_name = "CANARY-bob"
    world.bob.save()
    world.org_b.name = "CANARY-org-B"
    world.org_b.save()
    desk_b = make_desk("default", "BDK", [world.org_b])
    desk_b.name = "CANARY-desk-B"
    desk_b.save()
    desk_admin = make_staff("deskadmin")
    StaffMembership.objects.create(desk=world.other_desk, user=desk_admin, role="admin")
    StaffMembership.objects.create(desk=world.desk, user=desk_admin, role="admin")

    for desk in (world.desk, world.other_desk):
        WorkKind.objects.create(desk=desk, slug="work", labels={"en": "Work"})
    runs = {}

    def ticket(actor, desk, title, staff):
        t = services.ticket_create(actor=actor, desk=desk, title=title)
        services.comment_add(actor=actor, ticket=t, body=f"{title}-comment")
        services.attachment_add(actor=actor, ticket=t, uploads=[BytesUpload("f.txt", b"x")])
        work_log(actor=staff, ticket=t, minutes=30, description=f"{title}-work", kind="work")
        # an approved sheet, invoiced in a run of the ticket's organisation
        Sheet.objects.filter(ticket=t).update(state="approved")
        run = InvoiceRun.objects.create(
            organisation_id=t.organisation_id,
            period_start="2026-11-01",
            period_end="2026-11-30",
            finalised_at=t.created_at,
            finalised_by=world.admin,
            csv=f"{title}-run".encode(),
            xlsx=b"",
        )
        TimeEntry.objects.filter(ticket=t).update(invoice_run=run)
        runs[t.pk] = run.pk
        estimate_set(actor=staff, ticket=t, hours="7")  # waits for a grant
        # a quote on every ticket (its text a canary), as sending one would leave it
        Quote.objects.create(
            ticket=t,
            desk_id=t.desk_id,
            organisation_id=t.organisation_id,
            number=1,
            hours=5,
            text=f"{title}-quote",
            valid_until="2026-12-31",
            sent_by=staff,
            sent_at=t.created_at,
        )
        return t

    tb = ticket(world.bob, world.desk, "CANARY-ticket-B", world.agent)
    ta = ticket(world.alice, world.desk, "CANARY-ticket-A", world.agent)
    to = ticket(world.alice, world.other_desk, "CANARY-ticket-OTH", world.outsider)
    services.participant_add(actor=world.bob, ticket=tb, person=world.bob)
    services.participant_add(actor=world.alice, ticket=ta, person=world.amir)
    services.participant_add(actor=world.alice, ticket=to, person=world.amir)
    for t, desk in ((tb, world.desk), (ta, world.desk), (to, world.other_desk)):
        release = Release.objects.filter(desk=desk, version="1.0").first()
        if release is None:
            line = line_create(actor=world.admin, desk=desk, name="1")
            release = release_create(
                actor=world.admin, line=line, version="1.0", published_on=t.created_at.date()
            )
        fix_record(actor=world.admin, ticket=t, release=release, notes={"en": f"{t.title}-note"})
    hook_gen, _ = subscription_create(
        actor=desk_admin, desk=world.desk, url="https://canary-gen.example/hook"
    )
    hook_oth, _ = subscription_create(
        actor=desk_admin, desk=world.other_desk, url="https://canary-oth.example/hook"
    )

    def attachment(t):
        return Attachment.objects.filter(ticket=t).first().pk

    def r(t, desk, org, user, hook, follower, own):
        return NS(
            key=t.key,
            desk=desk.pk,
            org=org.pk,
            user=user.pk,
            attachment=attachment(t),
            webhook=hook.pk,
            follower=follower.pk,
            own=own,
            me=None,
            entry=TimeEntry.objects.get(ticket=t).pk,
            run=runs[t.pk],
        )

    customer_a = r(tb, desk_b, world.org_b, world.bob, hook_oth, world.bob, ta.key)
    foreign = {
        "anon": r(ta, world.desk, world.org_a, world.alice, hook_gen, world.amir, ta.key),
        "alice": customer_a,
        "ada": customer_a,
        "bob": r(ta, world.other_desk, world.org_a, world.alice, hook_gen, world.amir, tb.key),
        "agent": r(to, world.other_desk, org_c, carl, hook_oth, world.amir, ta.key),
        "outsider": r(ta, world.desk, world.org_b, world.bob, hook_gen, world.amir, to.key),
    }
    missing = NS(
        key="GEN-999999",
        desk=2**40,
        org=2**40,
        user=2**40,
        attachment=2**40,
        webhook=2**40,
        follower=2**40,
        own=ta.key,
        me=None,
        entry=2**40,
        run=2**40,
    )
    mine_a = r(ta, world.desk, world.org_a, world.alice, hook_gen, world.amir, ta.key)
    own = {
        "alice": mine_a,
        "ada": mine_a,
        "bob": r(tb, world.desk, world.org_b, world.bob, hook_gen, world.bob, tb.key),
    }
    return NS(foreign=foreign, missing=missing, world=world, own=own)


def fingerprint() -> tuple:
    return (
        Ticket.objects.count(),
        Ticket.objects.aggregate(v=Sum("version"))["v"],
        TicketEvent.objects.count(),
        Comment.objects.count(),
        Attachment.objects.count(),
        Participant.objects.count(),
        Organisation.objects.count(),
        Deployment.objects.count(),
        Release.objects.count(),
        VersionLine.objects.count(),
        TicketFix.objects.filter(withdrawn_at__isnull=True).count(),
        WebhookSubscription.objects.filter(active=True).count(),
        SlaRevision.objects.count(),
        BusinessCalendar.objects.count(),
        sorted(WebhookSubscription.objects.values_list("url", flat=True)),
        sorted(Organisation.objects.values_list("name", flat=True)),
        TimeEntry.objects.count(),
        InvoiceRun.objects.count(),
        TimeEntry.objects.filter(invoice_run__isnull=True).count(),
        sorted(Estimate.objects.values_list("hours", "granted_hours")),
        sorted(Quote.objects.values_list("state", "decided_by", "superseded_by")),
    )


def send(caller: Api, method: str, url: str, body):
    if body == "file":
        upload = {"files": SimpleUploadedFile("x.txt", b"x", content_type="text/plain")}
        return caller.client.post(f"/api/v1/{url}", upload, headers=caller.headers)
    return caller.call(method, url, body)


ROLES = ["anon", "alice", "ada", "bob", "agent", "outsider"]
ORG_A = ["CANARY-ticket-A", "CANARY-ticket-OTH"]
ORG_B = ["CANARY-ticket-B", "CANARY-bob", "CANARY-org-B", "CANARY-desk-B"]
ORG_C = ["CANARY-org-C", "CANARY-carl"]
HOOKS = ["canary-gen", "canary-oth"]
# What each caller must never see (the rest of the canaries are theirs to see).
FORBIDDEN = {
    "anon": ORG_A + ORG_B + ORG_C + HOOKS,
    "alice": ORG_B + ORG_C + HOOKS,
    "ada": ORG_B + ORG_C + HOOKS,
    "bob": ORG_A + ORG_C + HOOKS,
    "agent": ["CANARY-ticket-OTH", "CANARY-desk-B", *ORG_C, *HOOKS],
    "outsider": ["CANARY-ticket-A", *ORG_B, *ORG_C, *HOOKS],
}


@pytest.mark.parametrize("role", ROLES)
def test_no_caller_reaches_anything_of_another_organisation_or_desk(scene, role):
    caller = Api(getattr(scene.world, role) if role != "anon" else None)
    foreign = scene.foreign[role]
    foreign.me = caller.user.pk if caller.user else 1
    scene.missing.me = foreign.me
    leaks = []
    for (method, path), (kind, build) in sorted(MATRIX.items()):
        before = fingerprint()
        url, body = build(foreign)
        response = send(caller, method, url, body)
        text = response.content.decode(errors="replace")
        where = f"{role} {method} {path}"
        if fingerprint() != before:
            leaks.append(f"{where}: wrote something")
        seen = [c for c in FORBIDDEN[role] if c in text]
        if seen:
            leaks.append(f"{where}: answered with foreign data {seen}")
        allowed = {401} if role == "anon" else {403, 404}
        if kind == OBJ and response.status_code not in allowed:
            leaks.append(f"{where}: answered {response.status_code}: {text[:200]}")
        if kind == C and role == "anon" and response.status_code != 401:
            leaks.append(f"{where}: answered {response.status_code} to nobody")
        if response.status_code == 404:
            missing_url, missing_body = build(scene.missing)
            other = send(caller, method, missing_url, missing_body)
            if (other.status_code, json.loads(other.content)) != (404, json.loads(text)):
                leaks.append(f"{where}: a foreign 404 differs from a missing one")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("role", ["alice", "ada", "bob"])
def test_a_note_for_one_organisation_reaches_no_other_customer(client, scene, role):
    """A and B share a desk and its published release 1.0; each ticket's fix note was left
    for its own organisation (the default), and one for every customer. Every reading of
    the API, aimed at the caller's own desk, ticket and release, and the portal's pages
    carry the caller's own note and the shared one, never the other organisation's."""
    world = scene.world
    release = Release.objects.get(desk=world.desk, version="1.0")
    shared = services.ticket_create(actor=world.bob, desk=world.desk, title="Shared fix")
    fix_record(
        actor=world.admin,
        ticket=shared,
        release=release,
        notes={"en": "PUBLIC-note-for-every-customer"},
        audience="everyone",
    )
    user = getattr(world, role)
    caller, mine = Api(user), scene.own[role]
    mine.me = user.pk
    own_note = "CANARY-ticket-A-note" if role != "bob" else "CANARY-ticket-B-note"
    leaks = []
    for (method, path), (_kind, build) in sorted(MATRIX.items()):
        if method != "GET":
            continue
        url, body = build(mine)
        answer = send(caller, method, url, body)
        raw = b"".join(answer.streaming_content) if answer.streaming else answer.content
        text = raw.decode(errors="replace")
        seen = [c for c in FORBIDDEN[role] if c in text]
        if seen:
            leaks.append(f"{role} GET {path}: answered with another organisation's {seen}")
    news = caller.get(f"desks/{world.desk.pk}/releases/1.0/whats-new?lang=en").json()
    assert sorted(news["fixes"]) == sorted([own_note, "PUBLIC-note-for-every-customer"])
    client.force_login(user)
    for page in (
        f"/portal/updates/{world.desk.pk}/1.0/?lang=en",
        f"/portal/updates/{world.desk.pk}/1.0/?lang=da",
        f"/portal/updates/{world.desk.pk}/",
        f"/portal/t/{mine.key}/",
        "/portal/",
    ):
        answer = client.get(page)
        text = answer.content.decode()
        seen = [c for c in FORBIDDEN[role] if c in text]
        if answer.status_code != 200 or seen:
            leaks.append(f"{role} {page}: {answer.status_code}, another organisation's {seen}")
    assert own_note in client.get(f"/portal/updates/{world.desk.pk}/1.0/?lang=en").content.decode()
    assert not leaks, "\n".join(leaks)


def test_staff_reading_whats_new_see_what_every_customer_sees(scene):
    """Each organisation's own notes are on the release's agent page, with their audience;
    What's new, read by staff, is the release note every customer reads."""
    world = scene.world
    news = Api(world.agent).get(f"desks/{world.desk.pk}/releases/1.0/whats-new?lang=en")
    assert news.status_code == 200
    assert news.json()["fixes"] == []
    page = Api(world.agent).get(f"tickets/{scene.own['bob'].key}/fixes").json()
    assert [(f["notes"], f["audience"]) for f in page] == [
        ({"en": "CANARY-ticket-B-note"}, "organisation")
    ]
