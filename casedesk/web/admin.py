"""Service levels in the admin: a desk's calendar, its plans and each organisation's plan
are edited here, but every change goes through `casedesk.sla.services`, which checks all of
the input, authorises the editor (the desk's admins), keeps the revisions and re-plans the
running clocks. A refusal is shown on the form in the editor's language, from the one
catalogue, and changes nothing.

These admins live in `web` rather than in `sla` because they say errors through the
catalogue (`web.messages`), which the layers keep above `sla`. The form makes the change
in `clean()` (one form, no inlines: the form is valid exactly when the service took the
change), and `save_model` only hands the stored row back to the admin.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from casedesk.common.errors import CasedeskError, InvalidInput, Problem
from casedesk.desks.adminscope import DeskScoped
from casedesk.sla import services
from casedesk.sla.models import BusinessCalendar, CalendarDay, OrganisationPlan, SlaPlan

from .messages import say, say_whole


def _minutes(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _week_text(week) -> str:
    """The stored week as lines of "weekday start-end" (0 is Monday)."""
    return "\n".join(
        f"{day} {_minutes(int(a))}-{_minutes(int(b))}"
        for day, spans in enumerate(week or [])
        for a, b in spans
    )


def _week_of(text: str) -> dict[int, list[tuple[str, str]]]:
    week: dict[int, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            day, span = line.split()
            start, end = span.split("-")
            week.setdefault(int(day), []).append((start, end))
        except ValueError:
            raise InvalidInput(
                {"opening_hours": Problem("input.malformed", detail=line.strip()[:40])}
            ) from None
    return week


def _targets_text(plan: SlaPlan) -> str:
    return "\n".join(f"{t.priority} {t.target} {t.minutes}" for t in plan.targets.all())


def _targets_of(text: str) -> dict[str, dict[str, int]]:
    targets: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            priority, target, minutes = line.split()
            targets.setdefault(priority, {})[target] = int(minutes)
        except ValueError:
            raise InvalidInput(
                {"target_minutes": Problem("input.malformed", detail=line.strip()[:40])}
            ) from None
    return targets


class ServiceForm(forms.ModelForm):
    """A form whose `apply()` calls a service; its refusals become the form's errors."""

    request: Any = None  # set by the admin's get_form
    result: Any = None

    def _post_clean(self):
        """The model's own checks are the service's: it has checked and stored the change
        (an existing row for the same key is replaced by it), or refused it."""
        if self.result is not None:
            self.instance = self.result

    def apply(self, data: dict):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.result = self.apply(data)
        except InvalidInput as exc:
            for field, problem in exc.errors.items():
                name = field if field in self.fields else None
                self.add_error(name, say(problem, workflow=exc.workflow))
        except CasedeskError as exc:
            raise ValidationError(say_whole(exc)) from None
        return data


class Applied:
    """The admin side of a `ServiceForm`: the service has stored the change already."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        pass  # stored by the service in the form's clean()

    def has_delete_permission(self, request, obj=None):
        return False  # removal goes through the action, i.e. through the service


class CalendarForm(ServiceForm):
    opening_hours = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 7}),
        required=False,
        help_text="One interval a line: weekday (0 is Monday) and hours, e.g. 0 08:00-17:00. "
        "24:00 ends a day; ignored for 24x7.",
    )

    class Meta:
        model = BusinessCalendar
        fields = [
            "desk",
            "zone",
            "always",
            "holiday_country",
            "holiday_subdivision",
            "customers_see_times",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opening_hours"].initial = _week_text(self.instance.week)
            self.fields["desk"].disabled = True

    def apply(self, data: dict):
        return services.calendar_set(
            actor=self.request.user,
            desk=data["desk"],
            zone=data["zone"],
            week=_week_of(data.get("opening_hours") or ""),
            always=data["always"],
            holiday_country=data.get("holiday_country") or "",
            holiday_subdivision=data.get("holiday_subdivision") or "",
            customers_see_times=data["customers_see_times"],
        )


class DayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0
    fields = ["day", "kind", "name", "hours", "source_version"]
    readonly_fields = ["day", "kind", "name", "hours", "source_version"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BusinessCalendar)
class CalendarAdmin(Applied, DeskScoped, admin.ModelAdmin):
    form = CalendarForm
    list_display = ["desk", "zone", "always", "holiday_country", "holiday_subdivision"]
    inlines = [DayInline]
    actions = ["remove"]

    @admin.action(description="Remove the selected calendars (refused while a plan uses one)")
    def remove(self, request, queryset):
        for cal in queryset.select_related("desk"):
            try:
                services.calendar_delete(actor=request.user, desk=cal.desk)
            except CasedeskError as exc:
                self.message_user(request, f"{cal.desk}: {say_whole(exc)}", messages.ERROR)


class PlanForm(ServiceForm):
    target_minutes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="One target a line: priority, target (first_response, next_response, "
        "resolution) and business minutes, e.g. urgent resolution 240.",
    )

    class Meta:
        model = SlaPlan
        fields = ["desk", "slug", "name", "desk_default", "around_the_clock", "warn_percent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["target_minutes"].initial = _targets_text(self.instance)
            self.fields["desk"].disabled = True
            self.fields["slug"].disabled = True

    def apply(self, data: dict):
        return services.plan_save(
            actor=self.request.user,
            desk=data["desk"],
            slug=data["slug"],
            name=data["name"],
            targets=_targets_of(data.get("target_minutes") or ""),
            around_the_clock=data["around_the_clock"],
            desk_default=data["desk_default"],
            warn_percent=data["warn_percent"],
        )


@admin.register(SlaPlan)
class PlanAdmin(Applied, DeskScoped, admin.ModelAdmin):
    form = PlanForm
    list_display = ["name", "desk", "desk_default", "around_the_clock", "warn_percent"]
    actions = ["remove"]

    @admin.action(description="Remove the selected plans (refused while an organisation is on one)")
    def remove(self, request, queryset):
        for plan in queryset.select_related("desk"):
            try:
                services.plan_delete(actor=request.user, desk=plan.desk, slug=plan.slug)
            except CasedeskError as exc:
                self.message_user(request, f"{plan.name}: {say_whole(exc)}", messages.ERROR)


class OrganisationPlanForm(ServiceForm):
    class Meta:
        model = OrganisationPlan
        fields = ["desk", "organisation", "plan"]

    def apply(self, data: dict):
        services.organisation_plan_set(
            actor=self.request.user,
            desk=data["desk"],
            organisation=data["organisation"],
            plan=data["plan"],
        )
        return OrganisationPlan.objects.get(desk=data["desk"], organisation=data["organisation"])


@admin.register(OrganisationPlan)
class OrganisationPlanAdmin(Applied, DeskScoped, admin.ModelAdmin):
    form = OrganisationPlanForm
    list_display = ["organisation", "desk", "plan"]
    actions = ["to_default"]

    @admin.action(description="Put the selected organisations back on their desk's default plan")
    def to_default(self, request, queryset):
        for row in queryset.select_related("desk", "organisation"):
            try:
                services.organisation_plan_set(
                    actor=request.user, desk=row.desk, organisation=row.organisation, plan=None
                )
            except CasedeskError as exc:
                self.message_user(request, f"{row.organisation}: {say_whole(exc)}", messages.ERROR)
