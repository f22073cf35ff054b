"""The one catalogue of error sentences: a code and its parameters in, words out, in the
reader's language. Pages, mail and the API all say errors through `say`.

Workflow things among the parameters (a transition, status, type, priority, field, team,
role, or what a step still needs) are shown by their label in the reader's language, from
the workflow the error came with; a value the workflow does not know is shown as given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casedesk.common.errors import CasedeskError, InvalidInput, Problem
from casedesk.workflow import Workflow

from .present import needs_text, role_text

log = logging.getLogger("casedesk.messages")

SENTENCES: dict[str, Promise] = {
    "plain": _("%(text)s"),
    "input.invalid": _("Please correct the marked fields."),
    "input.required": _("Please fill this in."),
    "input.too_long": _("This is too long: at most %(limit)s characters."),
    "input.nul": _("This contains a NUL character, which cannot be stored."),
    "input.not_unicode": _("This is not valid Unicode text."),
    "input.not_a_choice": _("This is not one of the choices."),
    "input.read_only": _("This cannot be changed."),
    "input.malformed": _("This value does not have the expected type or form (%(detail)s)."),
    "input.unknown_parameter": _("This operation has no such parameter."),
    "input.confirm_required": _("Please tick the box to confirm this step."),
    "language.unknown": _("“%(value)s” is not a language Casedesk speaks."),
    "time_zone.unknown": _("“%(value)s” is not a time zone name, such as Europe/Copenhagen."),
    "ticket.not_found": _("There is no such ticket."),
    "ticket.stale": _(
        "%(key)s was changed by someone else: you had version %(expected)s, it is now "
        "%(current)s. Read it again and retry."
    ),
    "ticket.version_required": _(
        "Say which version of the ticket this change is based on (reload it and try again)."
    ),
    "ticket.version_disagree": _("If-Match and version name different versions."),
    "ticket.if_match_invalid": _("Send the ETag of your last read, such as “7”."),
    "ticket.type.unknown": _("“%(value)s” is not a ticket type of this desk."),
    "ticket.type.not_for_customers": _("Customers cannot open tickets of the type “%(type)s”."),
    "ticket.priority.unknown": _("“%(value)s” is not a priority of this desk."),
    "ticket.reporter.required": _("Choose the customer this ticket is for."),
    "ticket.reporter.unknown": _("No customer of this desk has that user name or e-mail address."),
    "ticket.reporter.not_customer": _("The reporter must be an active customer."),
    "ticket.reporter.other_desk": _("This customer's organisation does not use this desk."),
    "ticket.reporter.self_only": _("Customers open tickets for themselves."),
    "ticket.assignee.not_staff": _("This is not a staff member of this desk."),
    "ticket.assignee.required_by_status": _(
        "A ticket in “%(status)s” must have someone assigned to it."
    ),
    "ticket.customer_assignee.not_member": _("This is not a person of the ticket's organisation."),
    "ticket.customer_assignee.required_by_status": _(
        "A ticket in “%(status)s” must have a contact at the customer."
    ),
    "ticket.team.unknown": _("This is not a team of this desk."),
    "ticket.follower.not_allowed": _("This person may not follow this ticket."),
    "ticket.person.unknown": _("There is no such person."),
    "ticket.other.unknown": _("There is no such ticket on your desks."),
    "ticket.link.self": _("A ticket cannot be linked to itself."),
    "ticket.duplicate.already_of": _("%(original)s is already a duplicate of %(ticket)s."),
    "ticket.duplicate.already": _("%(ticket)s is already marked as a duplicate."),
    "ticket.duplicate.original_closed": _("%(original)s is itself a closed duplicate."),
    "ticket.duplicate.plain_move": _(
        "“%(transition)s” closes a duplicate: mark the ticket as a duplicate of its original."
    ),
    "ticket.mail_attachment.foreign": _("These are not files of this ticket."),
    "ticket.release.environment": _(
        "Name the environment, such as TEST or PROD (at most %(limit)s characters)."
    ),
    "ticket.release.version": _("Give the version (at most %(limit)s characters)."),
    "ticket.release.organisation": _("This organisation does not use this desk."),
    "ticket.release.not_found": _("There is no such release."),
    "ticket.fix.not_found": _("This ticket is not fixed in that release."),
    "permission.denied": _("You do not have permission to do that."),
    "desk.not_found": _("There is no such desk."),
    "desk.required": _("Choose a desk."),
    "customer.not_found": _("There is no such customer."),
    "calendar.zone_unknown": _(
        "“%(zone)s” is not a known time zone; use an IANA name such as Europe/Copenhagen."
    ),
    "calendar.interval_invalid": _(
        "Day %(where)s: an opening interval must end after it starts, within the day."
    ),
    "calendar.intervals_overlap": _("Day %(where)s: the opening intervals overlap."),
    "calendar.time_invalid": _("“%(value)s” is not a time of day (HH:MM, up to 24:00)."),
    "calendar.never_open": _("The calendar is never open: give it opening hours or make it 24x7."),
    "calendar.week_length": _("A week has seven days, not %(days)s."),
    "calendar.naive_time": _("A moment without a time zone cannot be placed in the calendar."),
    "calendar.negative_duration": _("Business time cannot be negative."),
    "calendar.data_invalid": _("The stored calendar cannot be read; set it again."),
    "calendar.weekday_unknown": _("“%(value)s” is not a weekday (0 is Monday, 6 is Sunday)."),
    "calendar.interval_reversed": _(
        "Day %(day)s: %(start)s-%(end)s ends before it starts. For hours across midnight, "
        "end the day at 24:00 and start the next at 00:00."
    ),
    "calendar.holiday_country_unknown": _(
        "No public holidays are known for the country “%(value)s”."
    ),
    "calendar.holiday_subdivision_unknown": _("“%(value)s” is not a subdivision of %(country)s."),
    "calendar.missing": _("The desk has no business calendar yet; set it first."),
    "calendar.in_use": _("Plans use this calendar (%(count)s); remove them first."),
    "calendar.day_kind": _("A day set by hand is a closure or a short day."),
    "calendar.short_day_hours": _("A short day needs its opening hours."),
    "calendar.closed_day_hours": _("A closed day has no opening hours."),
    "calendar.no_country": _("The desk's calendar names no country for public holidays."),
    "calendar.years_too_many": _("At most %(limit)s years at once."),
    "calendar.years_reversed": _("The last year cannot come before the first."),
    "plan.calendar_required": _(
        "A plan needs the desk's business calendar: set the calendar first."
    ),
    "plan.slug_invalid": _("Use lower-case letters, digits, - and _ (at most %(limit)s)."),
    "plan.warn_percent": _("The warning comes between 1 and 99 percent of the target."),
    "plan.target_unknown": _(
        "“%(value)s” is not a target (first_response, next_response or resolution)."
    ),
    "plan.target_not_positive": _("A target is a whole number of minutes above zero."),
    "plan.target_too_long": _("A target is at most a year."),
    "plan.not_found": _("This desk has no plan “%(value)s”."),
    "plan.other_desk": _("This is not a plan of this desk."),
    "plan.in_use": _("Organisations are on this plan (%(count)s); put them on another plan first."),
    "plan.organisation_other_desk": _("This organisation does not use this desk."),
    "release.line.name": _("Name the version line (at most %(limit)s characters)."),
    "release.line.exists": _("This desk already has a version line of that name."),
    "release.version.exists": _("This desk already has a release of that version."),
    "release.position.range": _("Give a position from 1 to %(limit)s."),
    "release.position.taken": _("Another release of this line has that position."),
    "release.environment.exists": _("This organisation already has an environment of that name."),
    "release.not_found": _("There is no such release."),
    "release.fix.kind": _("Say whether this is a fix or a change."),
    "release.fix.audience": _(
        "Say who reads the note: this ticket's organisation, or every customer of the desk."
    ),
    "release.note.language": _("“%(value)s” is not a language of this desk."),
    "release.pipeline_id.required": _("Give the pipeline's own id (at most %(limit)s characters)."),
    "release.other_desk": _("This is not a release of this environment's desk."),
    "release.deployed_at.future": _("A deployment cannot be in the future."),
    "release.pipeline_id.reused": _("This id was already sent for another environment or release."),
    "transition.unknown": _("There is no step “%(value)s”."),
    "transition.role": _("The step “%(transition)s” is not open to %(role)s."),
    "transition.ticket_type": _(
        "The step “%(transition)s” is not for tickets of the type “%(type)s”."
    ),
    "transition.wrong_status": _(
        "The step “%(transition)s” cannot be taken while the ticket is “%(status)s”."
    ),
    "transition.no_previous": _(
        "The step “%(transition)s” returns the ticket to its previous status, but it has none."
    ),
    "transition.backwards": _(
        "The step “%(transition)s” would move the ticket backwards; on this desk tickets only "
        "move forward."
    ),
    "transition.requirement": _("The step “%(transition)s” needs %(missing)s."),
    "transition.sub_status_fixed": _("The step “%(transition)s” always leads to “%(sub_status)s”."),
    "transition.sub_status_unknown": _("“%(value)s” is not a sub-status of “%(status)s”."),
    "field.unknown": _("There is no field “%(field)s”."),
    "field.not_for_customers": _("Customers may not set “%(field)s”."),
    "field.kind": _("“%(value)s” is not %(kind)s."),
    "field.too_long": _("This is too long: at most %(limit)s characters."),
    "field.pattern": _("“%(value)s” does not have the form this field expects."),
    "attachment.not_found": _("There is no such attachment."),
    "attachment.required": _("Choose at least one file."),
    "attachment.too_large": _("%(name)s is larger than the limit of %(limit_mb)s MB."),
    "attachment.too_many": _("At most %(limit)s files at once."),
    "attachment.type_refused": _(
        "%(name)s: files of the type “%(extension)s” are not accepted (accepted: %(allowed)s)."
    ),
    "attachment.content_mismatch": _(
        "%(name)s: the file's content does not match its type “%(extension)s”."
    ),
    "attachment.not_text": _("%(name)s: a “%(extension)s” file must be text."),
    "search.person.invalid": _("“%(value)s” is not a person's id, “me” or “none”."),
    "search.sort.unknown": _("Sort by one of: %(choices)s."),
    "search.cursor.invalid": _("This page link is not valid; start from the first page."),
    "search.cursor.other_sort": _("This page link belongs to another sort order."),
    "search.limit": _("Ask for 1 to %(max)s tickets per page."),
    "people.admin_only": _("Only supplier administrators manage organisations and people."),
    "organisation.not_found": _("There is no such organisation."),
    "organisation.name.invalid": _("Give a name of 1 to %(limit)s characters."),
    "organisation.slug.invalid": _("Give a short name of letters, digits and dashes."),
    "organisation.slug.taken": _("The short name “%(slug)s” is taken."),
    "organisation.strangers_share": _(
        "This organisation holds the contacts of unknown senders: its members must not see "
        "each other's tickets."
    ),
    "person.not_found": _("There is no such person."),
    "person.username.invalid": _("Give a user name of 1 to %(limit)s characters."),
    "person.username.taken": _("The user name “%(username)s” is taken."),
    "person.organisation.required": _("A customer belongs to an organisation."),
    "person.customer_role.unknown": _("Choose one of: %(choices)s."),
    "person.customer_role.customers_only": _(
        "Only customers have a customer role; choose one of: %(choices)s."
    ),
    "person.kind.staff_has_organisation": _(
        "Staff belong to no organisation and have no customer role."
    ),
    "person.kind.unknown": _("Choose customer or staff."),
    "person.deactivate_self": _("You cannot deactivate yourself."),
    "token.not_found": _("There is no such token."),
    "token.self_only": _("You may make tokens only for yourself."),
    "token.name.invalid": _("Say what the token is for (1 to %(limit)s characters)."),
    "token.scope.unknown": _("Choose read, write or deploy."),
    "token.expiry.past": _("Choose a date in the future."),
    "token.expiry.too_far": _("A token lives at most %(days)s days."),
    "token.user.inactive": _("This person cannot log in."),
    "api.unauthorized": _("Log in, or send “Authorization: Bearer <your API token>”."),
    "api.bearer_malformed": _("Send “Authorization: Bearer <token>”."),
    "api.token.unknown": _("This token is unknown, expired or revoked."),
    "api.token.read_only": _("This token may only read."),
    "api.token.deploy_only": _("This token may only record deployments."),
    "api.token.in_address": _("API tokens go in the Authorization header, never in the address."),
    "api.csrf": _("The CSRF check failed: send the X-CSRFToken header."),
    "api.rate_limited": _("Too many requests: wait %(wait)s seconds, then try again."),
    "api.too_large": _("The request body is too large."),
    "api.too_many_files": _("At most %(limit)s files at once."),
    "api.too_many_fields": _("At most %(limit)s form fields."),
    "api.media_type": _("Send JSON with “Content-Type: application/json”, not “%(given)s”."),
    "api.json.invalid": _("The body is not valid JSON."),
    "api.json.duplicate_key": _("The body is not valid JSON: the key “%(key)s” appears twice."),
    "api.json.out_of_range": _("The body is not valid JSON: %(value)s is out of range."),
    "api.json.not_a_number": _(
        "The body is not valid JSON: %(value)s is not a number JSON allows."
    ),
    "api.json.too_deep": _(
        "The body is not valid JSON: it is nested deeper than %(limit)s levels."
    ),
    "api.json.text": _("The body holds a text with a NUL character or a lone surrogate."),
    "api.not_found": _("Not found."),
    "api.address.unknown": _("There is no such address in the API."),
    "api.address.too_many_parameters": _("The address has too many parameters."),
    "api.address.invalid_text": _("The address holds a NUL character or is not valid Unicode."),
    "api.method_not_allowed": _("This address does not take that method."),
    "api.server_error": _("Something went wrong on our side."),
    "service.database_unavailable": _(
        "The database cannot be reached just now, so nothing was done. Please try again in "
        "a moment."
    ),
    "mail.not_found": _("There is no such mail."),
    "mail.not_held": _("This mail is not held."),
    "mail.still_held": _("The mail is still held: %(reason)s"),
    "mail.address.invalid": _("“%(value)s” is not a single plain mail address."),
    "mail.address.required": _("Name at least one address."),
    "mail.address.desk_own": _("%(address)s is a desk's own address."),
    "mail.recipients.too_many": _("At most %(limit)s recipients."),
    "mail.subject.one_line": _("A subject is one line."),
    "mail.team_address.loop": _(
        "The team's address cannot be the desk's own address: mail would go round in a loop."
    ),
    "mail.strangers.organisation_required": _(
        "Choose the organisation that holds the people who write in without an account."
    ),
    "mail.strangers.organisation_shares": _(
        "The members of this organisation see each other's tickets, so it cannot hold "
        "people who write in without an account."
    ),
    "mail.strangers.organisation_elsewhere": _("This organisation is not a customer of the desk."),
    "webhook.not_found": _("There is no such webhook."),
    "webhook.events.unknown": _("Unknown events: %(unknown)s. Known: %(known)s."),
    "webhook.url.scheme": _("Use an http:// or https:// address."),
    "webhook.url.credentials": _(
        "Put no user name or password in the address; the signature proves who we are."
    ),
    "webhook.url.no_host": _("The address has no host."),
    "webhook.url.port": _("The address has an invalid port."),
    "webhook.url.unresolved": _("%(host)s cannot be resolved."),
    "webhook.url.private": _(
        "%(host)s is a private or local address; an administrator must allow its range first."
    ),
    "webhook.url.unreachable": _("The address could not be reached (%(detail)s)."),
    "webhook.network.malformed": _(
        "This is not an address range such as 10.1.2.0/24 or ::1/128 (%(detail)s)."
    ),
    "ticket.quote.plain_move": _(
        "“%(transition)s” belongs to a quote: send or answer the quote on the ticket."
    ),
    "quote.not_found": _("There is no such quote on this ticket."),
    "quote.not_offered": _("This ticket cannot take a quote or an answer to one right now."),
    "quote.expired": _(
        "This quote was valid until %(valid_until)s and can no longer be accepted. Ask us "
        "for a new one."
    ),
    "quote.closed": _("This quote has been answered or replaced already."),
    "quote.offer.one_of": _("Give either a number of hours or an amount, not both."),
    "quote.offer.hours": _("Give a number of hours above 0 and at most 10,000."),
    "quote.offer.amount": _("Give an amount above 0."),
    "quote.offer.currency": _("Give the currency as a three-letter code, such as DKK or EUR."),
    "quote.offer.currency_without_amount": _("A currency goes with an amount, not with hours."),
    "quote.valid_until.past": _("The quote must be valid until today or later."),
    "quote.valid_until.too_far": _("A quote can be valid for at most a year."),
    "quote.on_behalf.unconfirmed": _(
        "Confirm that the customer gave this answer themselves, by phone or mail."
    ),
    "quote.on_behalf.staff_only": _("Only staff record an answer on a customer's behalf."),
    "sheet.not_found": _("There is no such time entry."),
    "sheet.locked": _(
        "The service sheet is approved or invoiced and locked: its entries can no longer be "
        "added, corrected or removed."
    ),
    "sheet.waiting": _(
        "The service sheet waits for the customer's approval, so nothing on it changes now. "
        "Once the customer returns it, you can log and correct work again."
    ),
    "sheet.entry.immutable": _(
        "Time entries are never edited or removed: log a correction instead."
    ),
    "sheet.entry.minutes": _("Give between %(least)s and %(most)s minutes."),
    "sheet.entry.over_a_day": _("That makes more than 24 hours on one day for this person."),
    "sheet.entry.day_future": _("Work cannot be logged for a day still to come."),
    "sheet.entry.kind_unknown": _("Choose a kind of work of this desk."),
    "sheet.entry.cancelled": _("A cancelled ticket carries no billable work."),
    "sheet.entry.corrected_already": _("This entry was corrected already; correct the newer one."),
    "date.malformed": _("Give a date such as 2026-03-31."),
    "invoice.not_found": _("There is no such invoice basis."),
    "invoice.period.backwards": _("The period ends before it starts."),
    "invoice.period.too_long": _("A period is at most a year."),
    "invoice.organisation.unknown": _("There is no such organisation."),
    "invoice.nothing": _("There is no approved work to invoice in this period."),
    "invoice.raced": _("Part of this work was invoiced meanwhile; try again."),
    "estimate.hours": _(
        "Give the hours as a number above 0 and up to %(most)s, with at most two decimals."
    ),
    "estimate.unchanged": _("The estimate already has this number of hours."),
    "estimate.nothing_to_grant": _("There is no hour estimate waiting for approval."),
    "estimate.changed": _(
        "The estimate changed while you were reading it; it is now %(hours)s hours. "
        "Please look again."
    ),
}

_KINDS = {
    "number": _("a whole number"),
    "decimal": _("a number"),
    "date": _("a date (YYYY-MM-DD)"),
    "datetime": _("a date and time"),
    "version": _("a version number"),
    "text": _("text"),
}


def _label(wf: Workflow, table: Mapping[str, Any], key: object, lang: str) -> str:
    item = table.get(str(key)) if isinstance(key, str) else None
    return wf.text(item.label, lang) if item is not None else str(key)


def display_params(
    params: Mapping[str, Any], lang: str, workflow: Workflow | None = None
) -> dict[str, str]:
    """Each parameter as the reader should see it: labels for workflow keys."""
    shown: dict[str, str] = {}
    for name, value in params.items():
        if name == "role":
            shown[name] = str(role_text(str(value)))
        elif name == "kind":
            shown[name] = str(_KINDS.get(str(value), value))
        elif name == "missing" and isinstance(value, list | tuple):
            wf_needs = [needs_text(str(n), workflow, lang) if workflow else str(n) for n in value]
            shown[name] = ", ".join(str(n) for n in wf_needs)
        elif workflow is not None and name in _TABLES:
            if name == "status" and str(value) in workflow.statuses:
                sub = str(params.get("sub_status") or "")
                shown[name] = workflow.place_label(
                    str(value), sub if sub in workflow.sub_statuses else "", lang
                )
            else:
                shown[name] = _label(workflow, getattr(workflow, _TABLES[name]), value, lang)
        elif isinstance(value, list | tuple):
            shown[name] = ", ".join(str(v) for v in value)
        else:
            shown[name] = str(value)
    return shown


_TABLES = {
    "transition": "transitions",
    "status": "statuses",
    "sub_status": "sub_statuses",
    "type": "types",
    "priority": "priorities",
    "field": "fields",
    "team": "teams",
}


class _Shown(dict):
    def __missing__(self, key: str) -> str:
        log.warning("error sentence names %r, which its code does not give", key)
        return ""


def say(
    problem: Problem | CasedeskError,
    lang: str | None = None,
    workflow: Workflow | None = None,
) -> str:
    """The sentence for `problem` in `lang` (the active language when not given)."""
    if isinstance(problem, CasedeskError):
        workflow = workflow or problem.workflow
        problem = problem.problem
    with translation.override(lang or translation.get_language() or "en"):
        active = translation.get_language() or "en"
        sentence = SENTENCES.get(problem.code)
        if sentence is None:
            log.warning("error code %r has no sentence", problem.code)
            return gettext("Something went wrong on our side.")
        return str(sentence) % _Shown(display_params(problem.params, active, workflow))


def say_whole(exc: CasedeskError, lang: str | None = None) -> str:
    """The whole refusal in one text, for a place with no form to put field errors next to
    (a notice, a held mail's reason): the sentence of each bad field, else the error's."""
    if isinstance(exc, InvalidInput) and exc.errors:
        return " ".join(say(p, lang, exc.workflow) for p in exc.errors.values())
    return say(exc, lang)
