"""What every admin page of a table of durable jobs shows: held rows, and two actions."""

from __future__ import annotations

from django.contrib import admin, messages

from .models import WindowCount
from .queue import job_discard, job_retry, queue_of


class HeldFilter(admin.SimpleListFilter):
    title = "held"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "Held: the last try failed"), ("no", "Not held")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(held_at__isnull=self.value() == "no")
        return queryset


class HeldAdmin(admin.ModelAdmin):
    """Mix in first. Admin pages of records are read-only, so retrying or discarding asks
    for the model's change permission itself rather than the page's."""

    held_fields = ("attempts", "held_at", "last_error")
    held_actions: tuple[str, ...] = ("retry_held", "discard_held")

    def get_list_filter(self, request):
        return [HeldFilter, *super().get_list_filter(request)]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.held_fields]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_retry_permission(request):
            for name in self.held_actions:
                action = getattr(type(self), name)
                actions[name] = (action, name, action.short_description)
        return actions

    def has_retry_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def _done(self, request, n: int, what: str) -> None:
        self.message_user(
            request,
            f"{n} held row{'' if n == 1 else 's'} {what}.",
            messages.SUCCESS if n else messages.WARNING,
        )

    @admin.action(description="Try the held rows again")
    def retry_held(self, request, queryset):
        if not self.has_retry_permission(request):
            raise PermissionError
        n = job_retry(queue=queue_of(self.model), ids=queryset.values_list("pk", flat=True))
        self._done(request, n, "will be tried again")

    @admin.action(description="Discard the held rows")
    def discard_held(self, request, queryset):
        if not self.has_retry_permission(request):
            raise PermissionError
        n = job_discard(queue=queue_of(self.model), ids=queryset.values_list("pk", flat=True))
        self._done(request, n, "discarded")


@admin.register(WindowCount)
class WindowCountAdmin(admin.ModelAdmin):
    """Rate-limit counters (logins, API requests, bad tokens); removing one lifts a limit."""

    list_display = ["key", "start", "count"]
    search_fields = ["key"]
    readonly_fields = ["key", "start", "ends_at", "count"]

    def has_add_permission(self, request):
        return False
