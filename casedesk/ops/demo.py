"""Demo data: one desk per preset, customer organisations, people for every role, and
tickets in every status of every workflow, with real history.

Tickets reach their statuses by the same services people use: for each place in a
workflow the engine finds a path from the initial status, and the path is replayed step by
step under a moving clock. Only the moves a workflow reserves for the system (timers and
events) are made directly through the engine's system actor, as the worker would.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from datetime import timedelta

from django.db import transaction

from casedesk.accounts.models import Organisation, User
from casedesk.common import clock
from casedesk.desks.models import Deployment, Desk, StaffMembership, Team
from casedesk.desks.services import desk_create, preset_names, preset_store
from casedesk.tickets import services
from casedesk.tickets.models import OutboxItem, Ticket
from casedesk.workflow import SYSTEM_ACTOR, Actor, Denied, Given, Snapshot, after, decide, options
from casedesk.workflow.spec import Workflow

PASSWORD = "casedesk-demo"

ORGANISATIONS = [
    # slug, name, language
    ("nordhavn", "Nordhavn Kommune", "da"),
    ("brabant", "Brabant Verzekeringen", "nl"),
    ("vltava", "Vltava Strojírny", "cs"),
    ("gota", "Göta Logistik", "sv"),
    ("acme", "Acme Ltd", "en"),
]
DESKS = [
    # preset, name, key prefix, time zone, organisations
    (
        "default",
        "General support",
        "GEN",
        "Europe/London",
        ["nordhavn", "brabant", "vltava", "gota", "acme"],
    ),
    ("tms", "Kundecenter", "TMS", "Europe/Copenhagen", ["nordhavn", "acme"]),
    ("assu", "Assu servicedesk", "ASSU", "Europe/Amsterdam", ["brabant", "acme"]),
    ("twovalue", "Managed services", "TV", "Europe/Amsterdam", ["brabant", "acme"]),
    ("sda", "Service Desk Automation", "SDA", "Europe/Copenhagen", ["nordhavn", "gota"]),
    ("servisni_list", "Portál podpory", "SL", "Europe/Prague", ["vltava", "acme"]),
]
STAFF = [
    # username, first name, role on every desk (None: superuser)
    ("admin", "Ada Admin", None),
    ("lead", "Lars Lead", "lead"),
    ("agent", "Agnes Agent", "agent"),
    ("agent2", "Bram Agent", "agent"),
]
TITLES = {
    "en": [
        "Invoice export stops at 99 lines",
        "Cannot log in after password change",
        "Report shows last month's figures",
        "Please add a field for the order number",
    ],
    "da": [
        "Fakturaeksport stopper ved 99 linjer",
        "Kan ikke logge ind efter skift af adgangskode",
        "Rapporten viser sidste måneds tal",
        "Tilføj venligst et felt til ordrenummer",
    ],
    "nl": [
        "Polisexport stopt na 99 regels",
        "Inloggen lukt niet na wachtwoordwijziging",
        "Rapport toont cijfers van vorige maand",
        "Graag een veld voor het ordernummer",
    ],
    "cs": [
        "Export faktur končí na 99 řádcích",
        "Nelze se přihlásit po změně hesla",
        "Přehled ukazuje čísla za minulý měsíc",
        "Prosíme o pole pro číslo objednávky",
    ],
    "sv": [
        "Fakturaexporten stannar vid 99 rader",
        "Kan inte logga in efter lösenordsbyte",
        "Rapporten visar förra månadens siffror",
        "Lägg gärna till ett fält för ordernummer",
    ],
}
WORDS = {
    "en": "Done as discussed; details are in the log.",
    "da": "Gjort som aftalt; detaljer står i loggen.",
    "nl": "Gedaan zoals besproken; details staan in het logboek.",
    "cs": "Hotovo podle dohody; podrobnosti jsou v záznamu.",
    "sv": "Gjort som överenskommet; detaljer finns i loggen.",
}
SAMPLE_FIELDS = {
    "text": "PBI-1042",
    "number": "1042",
    "decimal": "6.5",
    "version": "2.4",
    "date": "2026-12-01",
    "datetime": "2026-12-01T09:00:00+00:00",
}


@dataclass(frozen=True)
class Step:
    by: str  # staff | customer | system
    transition: str
    sub: str | None


def database_is_empty() -> bool:
    return not Desk.objects.exists() and not User.objects.exists()


def _sample(wf: Workflow, name: str) -> str:
    spec = wf.fields[name]
    if spec.pattern:
        for candidate in ("1042", "PBI-1042", "12345", "A-1042", "2.4"):
            if re.fullmatch(spec.pattern, candidate):
                return candidate
    return SAMPLE_FIELDS[spec.kind]


def _given(wf: Workflow, needs: tuple[str, ...], sub: str | None, lang: str) -> Given:
    return Given(
        comment=WORDS.get(lang, WORDS["en"]) if "comment" in needs else "",
        sub_status=sub,
        fields={n[6:]: _sample(wf, n[6:]) for n in needs if n.startswith("field:")},
        assignee_id=2 if "assignee" in needs else None,
        customer_assignee_id=3 if "customer_assignee" in needs else None,
    )


def plan(wf: Workflow, *, max_depth: int = 10) -> dict[tuple[str, str], tuple[str, list[Step]]]:
    """For every reachable place: a ticket type and the shortest list of moves that gets a
    new ticket of that type there (the default type first, as it is the common case)."""
    now = clock.now()
    actors = {
        "staff": Actor("staff", "lead", 2),
        "customer": Actor("customer", "approver", 1),
        "system": SYSTEM_ACTOR,
    }
    paths: dict[tuple[str, str], tuple[str, list[Step]]] = {}
    types = [wf.default_type, *(t for t in wf.types if t != wf.default_type)]
    for ticket_type in types:
        first_status, first_sub = wf.start
        start = Snapshot(
            status=first_status,
            sub_status=first_sub,
            type=ticket_type,
            priority=wf.default_priority,
            entered_at=now,
            last_activity_at=now,
            reporter_id=1,
            progress_rank=wf.statuses[first_status].rank or 0,
        )
        paths.setdefault((start.status, start.sub_status), (ticket_type, []))
        seen = {(start.status, start.sub_status, start.previous_status, start.progress_rank)}
        queue: deque[tuple[Snapshot, list[Step]]] = deque([(start, [])])
        while queue:
            snap, path = queue.popleft()
            if len(path) >= max_depth:
                continue
            for by, actor in actors.items():
                for option in options(wf, snap, actor):
                    for sub in option.sub_choices or (None,):
                        given = _given(wf, option.needs, sub, wf.languages[0])
                        outcome = decide(wf, snap, actor, option.transition.key, given, now)
                        if isinstance(outcome, Denied):
                            continue
                        nxt = after(snap, outcome, actor=actor, now=now)
                        if given.assignee_id:
                            nxt = replace(nxt, assignee_id=given.assignee_id)
                        step = [*path, Step(by, option.transition.key, sub)]
                        paths.setdefault((nxt.status, nxt.sub_status), (ticket_type, step))
                        state = (nxt.status, nxt.sub_status, nxt.previous_status, nxt.progress_rank)
                        if state not in seen:
                            seen.add(state)
                            queue.append((nxt, step))
    return paths


def _people() -> tuple[dict[str, User], dict[str, dict[str, User]]]:
    staff = {}
    for username, name, role in STAFF:
        first, last = name.split(" ", 1)
        if role is None:
            user = User.objects.create_superuser(
                username, f"{username}@supplier.example", PASSWORD, first_name=first, last_name=last
            )
        else:
            user = User.objects.create_user(
                username,
                f"{username}@supplier.example",
                PASSWORD,
                kind="staff",
                first_name=first,
                last_name=last,
            )
        staff[username] = user
    customers: dict[str, dict[str, User]] = {}
    for slug, name, lang in ORGANISATIONS:
        org = Organisation.objects.create(
            name=name,
            slug=slug,
            language=lang,
            notify_all_members_on_new=slug in ("nordhavn", "gota"),
        )
        customers[slug] = {}
        for role, first in (("member", "Mia"), ("approver", "Arne"), ("org_admin", "Olga")):
            username = f"{slug}.{role.replace('org_admin', 'admin')}"
            customers[slug][role] = User.objects.create_user(
                username,
                f"{username}@{slug}.example",
                PASSWORD,
                kind="customer",
                organisation=org,
                customer_role=role,
                language=lang,
                first_name=first,
                last_name=name.split()[0],
            )
    return staff, customers


def _needs(wf: Workflow, transition: str, status: str) -> tuple[str, ...]:
    """What a move asks for: its own requirements and those of the status it enters."""
    t = wf.transitions[transition]
    target = t.to.status if t.to is not None else ""
    extra = wf.statuses[target].requires if target in wf.statuses else ()
    return (*t.requires, *(r for r in extra if r not in t.requires))


def _walk(ticket: Ticket, steps: list[Step], wf: Workflow, agent: User, lang: str, tick) -> Ticket:
    for step in steps:
        tick()
        needs = _needs(wf, step.transition, ticket.status)
        given = _given(wf, needs, step.sub, lang)
        if step.by == "system":
            ticket = services.ticket_system_transition(
                ticket_id=ticket.pk, transition=step.transition, cause={"demo": True}
            )
            continue
        actor = agent if step.by == "staff" else ticket.reporter
        ticket = services.ticket_transition(
            actor=actor,
            ticket=ticket,
            transition=step.transition,
            comment=given.comment,
            sub_status=step.sub,
            fields=dict(given.fields),
            assignee=agent if "assignee" in needs and not ticket.assignee_id else None,
            customer_assignee=ticket.reporter if "customer_assignee" in needs else None,
        )
    return ticket


def demo_load() -> list[tuple[str, str, str]]:
    """Load the demo into an empty database; returns (username, role, password) rows."""
    if not database_is_empty():
        raise RuntimeError("demo data goes only into an empty database")
    available = set(preset_names())
    real_now = clock.now()
    with transaction.atomic():
        staff, customers = _people()
        orgs = {o.slug: o for o in Organisation.objects.all()}
    for preset, name, prefix, tz, org_slugs in DESKS:
        if preset not in available:
            continue
        desk = desk_create(
            name=name, key_prefix=prefix, workflow=preset_store(preset), time_zone=tz
        )
        desk.organisations.set([orgs[s] for s in org_slugs])
        for username, _, role in STAFF:
            if role:
                StaffMembership.objects.create(desk=desk, user=staff[username], role=role)
        for team in Team.objects.filter(desk=desk):
            team.members.add(staff["agent"], staff["agent2"])
        wf = desk.workflow.workflow
        paths = plan(wf)
        for index, (_place, (ticket_type, steps)) in enumerate(sorted(paths.items())):
            org = orgs[org_slugs[index % len(org_slugs)]]
            lang = org.language if org.language in wf.languages else wf.languages[0]
            acts = any(step.by == "customer" for step in steps)
            reporter = customers[org.slug]["approver" if acts or index % 2 else "member"]
            start = real_now - timedelta(hours=3 * len(steps) + 2, minutes=index)
            by_staff = not wf.types[ticket_type].customer_may_create
            with clock.frozen(start) as frozen:
                ticket = services.ticket_create(
                    actor=staff["agent"] if by_staff else reporter,
                    reporter=reporter,
                    desk=desk,
                    type=ticket_type,
                    title=TITLES[org.language][index % 4],
                    description=TITLES[org.language][(index + 1) % 4],
                    channel="phone" if by_staff else "web",
                )
                if index % 3 == 0:
                    frozen.advance(minutes=20)
                    services.comment_add(
                        actor=staff["agent"], ticket=ticket, internal=True, body=WORDS["en"]
                    )
                _walk(ticket, steps, wf, staff["lead"], lang, lambda: frozen.advance(hours=3))
        for slug in org_slugs:
            for environment, version in (("TEST", "2.3"), ("PROD", "2.2")):
                Deployment.objects.create(
                    organisation=orgs[slug],
                    desk=desk,
                    environment=environment,
                    version=version,
                    deployed_at=real_now - timedelta(days=30),
                )
    # The demo's history is the past: nobody is mailed about it, no webhook is called.
    OutboxItem.objects.all().delete()
    rows = [
        (u, "supplier admin (superuser)" if r is None else f"supplier {r} on every desk", PASSWORD)
        for u, _, r in STAFF
    ]
    for slug, name, _ in ORGANISATIONS:
        for role, user in customers[slug].items():
            rows.append((user.username, f"{role} at {name}", PASSWORD))
    return rows
