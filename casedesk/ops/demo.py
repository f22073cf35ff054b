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
from casedesk.desks.models import Desk, StaffMembership, Team
from casedesk.desks.services import desk_create, preset_names, preset_store
from casedesk.quotes import services as quote_services
from casedesk.quotes.models import Quote
from casedesk.releases.models import Deployment, Environment, Release, VersionLine
from casedesk.sheets.models import WorkKind
from casedesk.sla.models import SlaPlan
from casedesk.sla.presets import sla_preset_apply, sla_preset_names
from casedesk.sla.services import organisation_plan_set
from casedesk.tickets import services
from casedesk.tickets.models import OutboxItem, Ticket
from casedesk.workflow import SYSTEM_ACTOR, Actor, Denied, Given, Snapshot, after, decide, options
from casedesk.workflow.spec import Workflow, expand_roles

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
# What staff write when a move asks for a comment, so a demo ticket reads like a case.
REMARKS = {
    "en": [
        WORDS["en"],
        "We reproduced it on the test system and know the cause.",
        "Could you send us a screenshot of the error message?",
        "The fix is in place; please check it on your side.",
        "We have planned this for Thursday morning.",
    ],
    "da": [
        WORDS["da"],
        "Vi har genskabt fejlen på testsystemet og kender årsagen.",
        "Vil du sende os et skærmbillede af fejlmeddelelsen?",
        "Rettelsen er lagt ind; kontrollér den gerne hos jer.",
        "Vi har planlagt opgaven til torsdag formiddag.",
    ],
    "nl": [
        WORDS["nl"],
        "We hebben het op de testomgeving nagebootst en weten de oorzaak.",
        "Wilt u ons een schermafdruk van de foutmelding sturen?",
        "De oplossing staat klaar; wilt u het bij u controleren?",
        "We hebben dit ingepland voor donderdagochtend.",
    ],
    "cs": [
        WORDS["cs"],
        "Chybu jsme zopakovali na testovacím systému a známe příčinu.",
        "Můžete nám poslat snímek obrazovky s chybovou hláškou?",
        "Oprava je nasazená; prosíme, ověřte ji u sebe.",
        "Práci jsme naplánovali na čtvrtek dopoledne.",
    ],
    "sv": [
        WORDS["sv"],
        "Vi har återskapat felet i testmiljön och vet orsaken.",
        "Kan du skicka en skärmbild av felmeddelandet?",
        "Rättningen är på plats; kontrollera den gärna hos er.",
        "Vi har planerat in det till torsdag förmiddag.",
    ],
}
# What a customer adds after reporting, and the desk's first public answer to it.
FOLLOW_UPS = {
    "en": ("It happens on every workstation, not only mine.", "Thanks, we are looking at it."),
    "da": ("Det sker på alle arbejdspladser, ikke kun min.", "Tak, vi kigger på det."),
    "nl": ("Het gebeurt op alle werkplekken, niet alleen bij mij.", "Dank u, we kijken ernaar."),
    "cs": ("Děje se to na všech stanicích, nejen u mě.", "Děkujeme, díváme se na to."),
    "sv": ("Det händer på alla arbetsplatser, inte bara min.", "Tack, vi tittar på det."),
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


def _given(
    wf: Workflow, needs: tuple[str, ...], sub: str | None, lang: str, turn: int = 0
) -> Given:
    remarks = REMARKS.get(lang, REMARKS["en"])
    return Given(
        comment=remarks[turn % len(remarks)] if "comment" in needs else "",
        sub_status=sub,
        fields={n[6:]: _sample(wf, n[6:]) for n in needs if n.startswith("field:")},
        assignee_id=2 if "assignee" in needs else None,
        customer_assignee_id=3 if "customer_assignee" in needs else None,
    )


def plan(wf: Workflow, *, max_depth: int = 10) -> dict[tuple[str, str], tuple[str, list[Step]]]:
    """For every reachable place: a ticket type and the shortest list of moves that gets a
    new ticket of that type there (the default type first, as it is the common case).
    Closing as a duplicate is left out: it needs an original and goes through its service."""
    now = clock.now()
    actors = {
        "staff": Actor("staff", "lead", 2),
        "customer": Actor("customer", "approver", 1),
        "system": SYSTEM_ACTOR,
    }
    duplicate = wf.duplicates.transition if wf.duplicates is not None else None
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
                    if option.transition.key == duplicate:
                        continue  # made only with its original (see _duplicate_pair)
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


def _walk(
    ticket: Ticket,
    steps: list[Step],
    wf: Workflow,
    agent: User,
    lang: str,
    tick,
    lead: User | None = None,
) -> Ticket:
    """Replay `steps` on `ticket`; staff moves by `agent`, or by `lead` where only a lead
    may make them (an escalation, for instance)."""
    for turn, step in enumerate(steps):
        tick()
        needs = _needs(wf, step.transition, ticket.status)
        given = _given(wf, needs, step.sub, lang, ticket.pk + turn)
        if step.by == "system":
            ticket = services.ticket_system_transition(
                ticket_id=ticket.pk, transition=step.transition, cause={"demo": True}
            )
            continue
        admits = expand_roles(wf.transitions[step.transition].by)
        staff = agent if lead is None or admits & {"agent", "staff"} else lead
        actor = staff if step.by == "staff" else ticket.reporter
        quoted = quote_move(ticket, wf, step.transition, staff, lang)
        if quoted is not None:
            ticket = quoted
            continue
        ticket = services.ticket_transition(
            actor=actor,
            ticket=ticket,
            transition=step.transition,
            comment=given.comment,
            sub_status=step.sub,
            fields=dict(given.fields),
            assignee=staff if "assignee" in needs and not ticket.assignee_id else None,
            customer_assignee=ticket.reporter if "customer_assignee" in needs else None,
        )
    return ticket


def quote_move(ticket: Ticket, wf: Workflow, transition: str, staff: User, lang: str):
    """A quote's move made as its service makes it: staff send a quote of a few hours, and
    record the customer's answer as given by phone. None for any other move."""
    move = next(
        (str(e.value) for e in wf.transitions[transition].effects if e.kind == "quote"), None
    )
    if move is None:
        return None
    text = REMARKS.get(lang, REMARKS["en"])[0]
    if move == "send":
        quote_services.quote_send(
            actor=staff,
            ticket=ticket,
            hours="8",
            text=text,
            valid_until=quote_services.local_today(ticket) + timedelta(days=30),
        )
    else:
        open_quote = Quote.objects.filter(ticket=ticket, state="sent").order_by("-number").first()
        quote_id = open_quote.pk if open_quote else 0
        if move == "accept":
            quote_services.quote_accept(
                actor=staff, ticket=ticket, quote_id=quote_id, on_behalf=True, note=text
            )
        else:
            quote_services.quote_decline(
                actor=staff, ticket=ticket, quote_id=quote_id, on_behalf=True, reason=text
            )
    return Ticket.objects.get(pk=ticket.pk)


def _owners(wf: Workflow, place: tuple[str, str], orgs: list[Organisation], index: int):
    """Who the demo tickets in `place` belong to. A place with a timer shows a dated next
    event, so it gets a ticket for every organisation that speaks one of the workflow's
    own languages: a new user sees those dates in Danish, Dutch, Czech and Swedish. Other
    places take turns among the organisations, those speaking the workflow first."""
    status, sub = place
    timed = any(ref.matches(status, sub) for t in wf.timers.values() for ref in t.places)
    speaking = [o for o in orgs if o.language in wf.languages and o.language != "en"]
    if timed and speaking:
        return speaking
    pool = [o for o in orgs if o.language in wf.languages] or orgs
    return [pool[index % len(pool)]]


def _demo_ticket(
    desk: Desk,
    wf: Workflow,
    org: Organisation,
    customers: dict[str, dict[str, User]],
    ticket_type: str,
    steps: list[Step],
    index: int,
    now,
    *,
    worker: User,
    lead: User,
    team: Team | None,
) -> None:
    """One demo ticket walked to its place: reported by someone of `org` in its language,
    handled by `worker` (the staff take turns), some routed to a team, some with a
    customer's follow-up and the desk's answer, some with an internal note."""
    lang = org.language if org.language in wf.languages else wf.languages[0]
    acts = any(step.by == "customer" for step in steps)
    reporter = customers[org.slug]["approver" if acts or index % 2 else "member"]
    start = now - timedelta(hours=3 * len(steps) + 2, minutes=index)
    by_staff = not wf.types[ticket_type].customer_may_create
    with clock.frozen(start) as frozen:
        ticket = services.ticket_create(
            actor=worker if by_staff else reporter,
            reporter=reporter,
            desk=desk,
            type=ticket_type,
            title=TITLES[lang][index % 4],
            description=TITLES[lang][(index + 1) % 4],
            channel="phone" if by_staff else "web",
        )
        if index % 2 and not by_staff:
            asked, answered = FOLLOW_UPS[lang]
            frozen.advance(minutes=10)
            services.comment_add(actor=reporter, ticket=ticket, body=asked)
            frozen.advance(minutes=15)
            services.comment_add(actor=worker, ticket=ticket, body=answered)
        if index % 3 == 0:
            frozen.advance(minutes=20)
            note = REMARKS["en"][index % len(REMARKS["en"])]
            services.comment_add(actor=worker, ticket=ticket, internal=True, body=note)
        if team is not None and index % 2 == 0:
            frozen.advance(minutes=5)
            services.ticket_route(actor=worker, ticket=ticket, team=team)
        _walk(ticket, steps, wf, worker, lang, lambda: frozen.advance(hours=3), lead=lead)


DUPLICATE_REASONS = {
    "en": "The same problem as {key}; we carry on there.",
    "da": "Samme problem som {key}; vi arbejder videre i den sag.",
    "nl": "Hetzelfde probleem als {key}; we gaan daar verder.",
    "cs": "Stejný problém jako {key}; pokračujeme v něm.",
    "sv": "Samma problem som {key}; vi fortsätter i det ärendet.",
}


def _duplicate_pair(desk: Desk, wf: Workflow, org, customers, agent: User, now) -> None:
    """Two colleagues report the same problem; the later report is closed as a duplicate
    of the first, with the link both ways, the title prefix and the reason."""
    if wf.duplicates is None:
        return
    rule = wf.duplicates
    lang = org.language if org.language in wf.languages else wf.languages[0]
    with clock.frozen(now - timedelta(hours=5)) as frozen:
        original = services.ticket_create(
            actor=customers[org.slug]["member"], desk=desk, title=TITLES[lang][1]
        )
        frozen.advance(minutes=40)
        copy = services.ticket_create(
            actor=customers[org.slug]["approver"], desk=desk, title=TITLES[lang][1]
        )
        frozen.advance(hours=1)
        if "assignee" in _needs(wf, rule.transition, copy.status):
            services.ticket_assign(actor=agent, ticket=copy, assignee=agent)
        services.ticket_mark_duplicate(
            actor=agent,
            ticket=copy,
            original=original,
            comment=DUPLICATE_REASONS[lang].format(key=original.key),
        )


WORK_KINDS = [
    ("konzultace", "Konzultace", "Consulting", True),
    ("vyvoj", "Vývoj", "Development", True),
    ("cesta", "Cesta", "Travel", False),
]


# Which organisation is on which shipped plan, where it is not the desk's default.
PLANS = {("twovalue", "acme"): "around_the_clock"}


def _service_levels(desk: Desk, preset: str, orgs: dict, real_now) -> None:
    """The shipped example service levels, in force from a month before the demo's
    tickets, so their clocks are as a rebuild would compute them."""
    if preset not in sla_preset_names():
        return
    with clock.frozen(real_now - timedelta(days=30)):
        sla_preset_apply(actor=None, desk=desk, preset=preset)
        for (on, slug), plan in PLANS.items():
            if on == preset:
                organisation_plan_set(
                    actor=None,
                    desk=desk,
                    organisation=orgs[slug],
                    plan=SlaPlan.objects.get(desk=desk, slug=plan),
                )


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
        _service_levels(desk, preset, orgs, real_now)
        for username, _, role in STAFF:
            if role:
                StaffMembership.objects.create(desk=desk, user=staff[username], role=role)
        for team in Team.objects.filter(desk=desk):
            team.members.add(staff["agent"], staff["agent2"])
        if preset == "servisni_list":  # the service-sheet desk logs work by kind
            for position, (slug, cs, en, billable) in enumerate(WORK_KINDS):
                WorkKind.objects.create(
                    desk=desk,
                    slug=slug,
                    labels={"cs": cs, "en": en},
                    billable=billable,
                    position=position,
                )
        wf = desk.workflow.workflow
        paths = plan(wf)
        workers = [staff["agent"], staff["agent2"], staff["lead"]]
        teams = list(Team.objects.filter(desk=desk).order_by("slug"))
        index = 0
        for place, (ticket_type, steps) in sorted(paths.items()):
            for org in _owners(wf, place, [orgs[s] for s in org_slugs], index):
                _demo_ticket(
                    desk,
                    wf,
                    org,
                    customers,
                    ticket_type,
                    steps,
                    index,
                    real_now,
                    worker=workers[index % len(workers)],
                    lead=staff["lead"],
                    team=teams[index % len(teams)] if teams else None,
                )
                index += 1
        _duplicate_pair(desk, wf, orgs[org_slugs[0]], customers, staff["agent"], real_now)
        _releases(desk, [orgs[slug] for slug in org_slugs], real_now - timedelta(days=30))
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


def _releases(desk: Desk, organisations, when) -> None:
    """Two releases on one line; each organisation runs the newer in TEST, the older in PROD."""
    line = VersionLine.objects.create(desk=desk, name="2", position=1)
    older, newer = (
        Release.objects.create(
            desk=desk, line=line, version=v, position=p, published_on=when.date(), created_at=when
        )
        for v, p in (("2.2", 10), ("2.3", 20))
    )
    for org in organisations:
        for position, (tier, release) in enumerate((("TEST", newer), ("PROD", older)), start=1):
            env = Environment.objects.create(
                organisation=org, desk=desk, name=tier, tier=tier, position=position
            )
            env.current = Deployment.objects.create(
                desk=desk,
                organisation=org,
                environment=env,
                release=release,
                deployed_at=when,
                received_at=when,
                pipeline_id=f"demo-{org.slug}-{tier}",
            )
            env.save(update_fields=["current"])
