"""Every ticket page read as every customer, in every language of its workflow.

For each preset a ticket is walked through the real services into every place of the
workflow (the demo's planner finds the path). Its portal page is then read by each kind of
customer viewer (the reporter, a colleague, the customer-side contact, an approver, the
organisation admin) in each language of the workflow, and its agent page by staff, and
the mails those moves sent are read too. Each is refused on a raw key, an unfilled
placeholder, an English string on a page in another language (names aside), "your turn"
with nothing to do, "nothing to do" beside an action, or Dutch that mixes *je* and *u*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from casedesk.accounts.models import User
from casedesk.desks.services import preset_names
from casedesk.mail.models import OutboundMail
from casedesk.ops.demo import (
    REMARKS,
    TITLES,
    WORDS,
    _duplicate_pair,
    _given,
    _needs,
    plan,
    quote_move,
)
from casedesk.quotes import services as quote_services
from casedesk.quotes.models import Quote
from casedesk.tickets import outbox, services
from casedesk.tickets.models import Ticket, TicketEvent, TicketTimer
from casedesk.tickets.selectors import next_step_for
from casedesk.tickets.timers import timers_warn_due
from casedesk.workflow.spec import Workflow
from tests.conftest import make_customer, make_desk, make_staff

ROOT = Path(__file__).resolve().parents[2] / "casedesk"
APPS = ("web", "portal", "agent", "mail")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\(\w+\)[sd]|\{\{|\{%")
KEY = re.compile(r"\b[a-z]+_[a-z_]+\b")  # snake_case words are keys, never words people read
NL_JE = re.compile(r"\b(je|jij|jouw|jou)\b", re.IGNORECASE)
NL_U = re.compile(r"\b(u|uw)\b", re.IGNORECASE)
VIEWERS = ("reporter", "colleague", "contact", "approver", "org_admin")


class _Text(HTMLParser):
    """The words a person reads on a page: text outside script and style, plus labels
    given as attributes (aria-label, placeholder, title, a button's value)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def words_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _catalogue_english(lang: str) -> set[str]:
    """English pieces of the interface that have their own translation in `lang`."""
    found: set[str] = set()
    for app in APPS:
        po = polib.pofile(str(ROOT / app / "locale" / lang / "LC_MESSAGES" / "django.po"))
        for entry in po.translated_entries():
            if entry.msgid_plural or entry.msgstr == entry.msgid:
                continue
            for piece in re.split(r"%\(\w+\)[sd]|%[sd]|[“”\"]", entry.msgid):
                piece = piece.strip(" .,:;()…")
                if len(piece) >= 8 and " " in piece:
                    found.add(piece)
    return found


def _workflow_english(wf: Workflow, lang: str) -> set[str]:
    """The workflow's English texts that it also gives, differently, in `lang`."""
    found: set[str] = set()
    own: set[str] = set()
    items = [
        *wf.types.values(),
        *wf.priorities.values(),
        *wf.teams.values(),
        *wf.fields.values(),
        *wf.flags.values(),
        *wf.sub_statuses.values(),
        *wf.statuses.values(),
        *wf.transitions.values(),
    ]
    for item in items:
        for attr in ("label", "explain", "prompt", "help"):
            texts = getattr(item, attr, None)
            if not texts or "en" not in texts or lang not in texts:
                continue
            own.add(texts[lang])
            if texts["en"] != texts[lang] and len(texts["en"]) >= 6:
                found.add(texts["en"])
    return {t for t in found if not any(t in o for o in own)}


@dataclass
class Reading:
    preset: str
    problems: list[str] = field(default_factory=list)

    def fail(self, where: str, what: str, text: str = "") -> None:
        self.problems.append(f"{self.preset} {where}: {what}" + (f" [{text[:80]}]" if text else ""))


def check_words(
    reading: Reading,
    where: str,
    text: str,
    *,
    lang: str,
    english: set[str],
    keys: set[str],
    wf: Workflow | None = None,
    customer: bool = False,
) -> None:
    for flag, spec in (wf.flags if wf else {}).items():
        label = wf.text(spec.label, lang) if wf else flag
        # in English a flag's key is an ordinary word ("urgent"); elsewhere it is a leak
        if (
            lang != "en"
            and label != flag
            and re.search(r"(?<!\w)" + re.escape(flag) + r"(?!\w)", text)
        ):
            reading.fail(where, "raw flag key", flag)
        if (
            customer
            and not spec.public
            and re.search(r"(?<!\w)" + re.escape(label) + r"(?!\w)", text)
        ):
            reading.fail(where, "an internal flag shown to a customer", label)
    for match in PLACEHOLDER.finditer(text):
        reading.fail(where, "unfilled placeholder", match.group(0))
    for match in KEY.finditer(text):
        if match.group(0) in keys:
            reading.fail(where, "raw key", match.group(0))
    if lang != "en":
        for piece in english:
            if re.search(r"(?<!\w)" + re.escape(piece) + r"(?!\w)", text):
                reading.fail(where, "English on a page in " + lang, piece)
    if lang == "nl" and NL_JE.search(text) and NL_U.search(text):
        reading.fail(where, "Dutch mixes je and u", NL_JE.search(text).group(0))


def _keys(wf: Workflow) -> set[str]:
    keys = {*wf.statuses, *wf.sub_statuses, *wf.transitions, *wf.fields, *wf.timers, *wf.flags}
    keys |= {"timer_warning", "mail_sent", "duplicate_of", "duplicate_added", "customer_assigned"}
    keys |= {"participant_added", "participant_removed", "customer_commented", "sla_breached"}
    return {k for k in keys if "_" in k}


def _quote_answer(ticket: Ticket, wf: Workflow, transition: str, customer, lang: str):
    """The customer's own answer to the open quote, as the portal gives it."""
    move = next(
        (str(e.value) for e in wf.transitions[transition].effects if e.kind == "quote"), None
    )
    if move not in ("accept", "decline"):
        return None
    quote = Quote.objects.filter(ticket=ticket, state="sent").order_by("-number").first()
    if move == "accept":
        quote_services.quote_accept(actor=customer, ticket=ticket, quote_id=quote.pk)
    else:
        quote_services.quote_decline(
            actor=customer, ticket=ticket, quote_id=quote.pk, reason=REMARKS[lang][0]
        )
    return Ticket.objects.get(pk=ticket.pk)


def _walk(ticket: Ticket, steps, wf: Workflow, people: dict, lang: str) -> Ticket:
    """The demo's path, each customer move made by the first customer allowed to make it."""
    for step in steps:
        needs = _needs(wf, step.transition, ticket.status)
        given = _given(wf, needs, step.sub, lang)
        if step.by == "system":
            ticket = services.ticket_system_transition(
                ticket_id=ticket.pk, transition=step.transition, cause={"test": True}
            )
            continue
        actor = people["agent"]
        if step.by == "customer":
            actor = next(
                people[v]
                for v in ("reporter", "approver", "org_admin")
                if any(
                    a.key == step.transition
                    for a in next_step_for(user=people[v], ticket=ticket, lang="en").actions
                )
            )
        if step.by == "customer" and actor.is_customer:
            answered = _quote_answer(ticket, wf, step.transition, actor, lang)
            if answered is not None:
                ticket = answered
                continue
        quoted = quote_move(ticket, wf, step.transition, people["agent"], lang)
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
            assignee=people["agent"] if "assignee" in needs and not ticket.assignee_id else None,
            customer_assignee=people["contact"] if "customer_assignee" in needs else None,
        )
    return ticket


@pytest.mark.parametrize("preset", preset_names())
def test_every_page_as_every_customer_in_every_language(preset, db, clock, app_consumers):
    from casedesk.accounts.models import Organisation

    org = Organisation.objects.create(name="Org A", slug="org-a")
    agent = make_staff("agent")
    desk = make_desk(preset, "PG", [org], {agent: "lead"})
    wf = desk.workflow.workflow
    people = {
        "agent": agent,
        "reporter": make_customer("rita", org),
        "colleague": make_customer("cole", org),
        "contact": make_customer("conny", org),
        "approver": make_customer("april", org, "approver"),
        "org_admin": make_customer("oscar", org, "org_admin"),
    }
    lang0 = wf.languages[0]
    User.objects.filter(pk__in=[u.pk for u in people.values()]).update(language=lang0)
    tickets = []
    for index, (_place, (ticket_type, steps)) in enumerate(sorted(plan(wf).items())):
        ticket = services.ticket_create(
            actor=people["reporter"],
            reporter=people["reporter"],
            desk=desk,
            type=ticket_type,
            title=TITLES[lang0][index % 4],
            description=WORDS[lang0],
        )
        clock.advance(minutes=5)
        ticket = services.ticket_assign_customer(
            actor=agent, ticket=ticket, person=people["contact"]
        )
        tickets.append(_walk(ticket, steps, wf, people, lang0))
    # a duplicate and its original, closed through the duplicate service
    if wf.duplicates is not None:
        pair = {org.slug: {"member": people["reporter"], "approver": people["colleague"]}}
        _duplicate_pair(desk, wf, org, pair, agent, clock())
        tickets = list(Ticket.objects.filter(desk=desk).order_by("pk"))
    # a desk that grants hour estimates shows one on every ticket, waiting for a grant
    if any(e.kind == "estimate" for t in wf.transitions.values() for e in t.effects):
        from casedesk.sheets.estimates import estimate_set

        for ticket in tickets:
            estimate_set(actor=agent, ticket=ticket, hours="2.5")
    # the warnings timers give ahead of time are history the customer reads too
    for timer in TicketTimer.objects.filter(ticket__desk=desk, warn_at__isnull=False):
        timers_warn_due(now=timer.warn_at + timedelta(minutes=1))
    outbox.deliver_all()

    reading = Reading(preset)
    keys = _keys(wf)
    clients = {}
    for name, user in people.items():
        clients[name] = Client()
        clients[name].force_login(user)
    for lang in wf.languages:
        User.objects.filter(pk__in=[u.pk for u in people.values()]).update(language=lang)
        english = _catalogue_english(lang) | _workflow_english(wf, lang) if lang != "en" else set()
        with translation.override(lang):
            your_turn = gettext("Your turn")
            nothing = [
                gettext("Nothing more to do"),
                gettext("Nothing for you to do now"),
                gettext(
                    "There is nothing you need to do now. We will let you know when we need you."
                ),
            ]
        for ticket in tickets:
            ticket = Ticket.objects.get(pk=ticket.pk)
            place = f"{ticket.status}/{ticket.sub_status}".rstrip("/")
            for viewer in VIEWERS:
                where = f"{place} as {viewer} in {lang}"
                page = clients[viewer].get(reverse("portal:ticket", args=[ticket.key]))
                assert page.status_code == 200, where
                html = page.content.decode()
                text = words_of(html)
                check_words(
                    reading,
                    where,
                    text,
                    lang=lang,
                    english=english,
                    keys=keys,
                    wf=wf,
                    customer=True,
                )
                step = next_step_for(user=people[viewer], ticket=ticket, lang=lang)
                acts = 'class="status-actions"' in html
                moving_reply = any(e.event == "customer_commented" for e in step.events)
                if your_turn in text and not (acts or moving_reply):
                    reading.fail(where, "'your turn' with nothing to do")
                if acts and any(n in text for n in nothing):
                    reading.fail(where, "'nothing to do' beside an action")
            where = f"{place} as staff in {lang}"
            page = clients["agent"].get(reverse("agent:ticket", args=[ticket.key]))
            assert page.status_code == 200, where
            text = words_of(page.content.decode())
            check_words(reading, where, text, lang=lang, english=english, keys=keys, wf=wf)
    for mail in OutboundMail.objects.filter(ticket__desk=desk):
        lang = mail.language
        english = _catalogue_english(lang) | _workflow_english(wf, lang) if lang != "en" else set()
        where = f"mail {mail.kind} #{mail.pk} in {lang}"
        text = mail.subject + " " + re.sub(r"\s+", " ", mail.body_text)
        check_words(reading, where, text, lang=lang, english=english, keys=keys)
    assert OutboundMail.objects.filter(ticket__desk=desk).exists()
    if any(t.warn_before for t in wf.timers.values()):
        assert TicketEvent.objects.filter(ticket__desk=desk, kind="timer_warning").exists()
    assert not reading.problems, "\n".join(sorted(set(reading.problems))[:80])


def test_the_reader_finds_what_it_looks_for():
    """The checks above can fail: each kind of problem on a made-up Danish page."""
    from casedesk.workflow.loader import PRESETS, load_file

    wf = load_file(PRESETS / "tms.yaml")
    reading = Reading("tms")
    text = words_of(
        "<p>Your turn</p><p>Lukker {date}</p><p>timer_warning</p><span>urgent</span>"
        "<span>HASTER</span><script>ignored_key {date}</script>"
    )
    check_words(
        reading,
        "page",
        text,
        lang="da",
        english=_catalogue_english("da") | _workflow_english(wf, "da"),
        keys=_keys(wf),
        wf=wf,
        customer=True,
    )
    found = {p.split(": ", 1)[1].split(" [")[0] for p in reading.problems}
    assert found == {
        "unfilled placeholder",
        "raw key",
        "English on a page in da",
        "raw flag key",
        "an internal flag shown to a customer",
    }, reading.problems
    assert len([p for p in reading.problems if "placeholder" in p]) == 1  # not in <script>
    mixed = Reading("assu")
    check_words(
        mixed, "page", "Je ticket is bij ons. Wij helpen u.", lang="nl", english=set(), keys=set()
    )
    assert mixed.problems and "je and u" in mixed.problems[0]
