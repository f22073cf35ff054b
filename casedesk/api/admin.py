from datetime import timedelta

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from casedesk.common import clock
from casedesk.desks.adminscope import SuperusersOnly

from .models import ApiToken
from .tokens import token_create, token_revoke


class TokenAddForm(forms.ModelForm):
    days = forms.IntegerField(min_value=1, max_value=366, initial=90, label="Valid for (days)")

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scope", "rate_limit"]


@admin.register(ApiToken)
class ApiTokenAdmin(SuperusersOnly, admin.ModelAdmin):
    """Administrators make tokens for anyone and revoke them; the secret is shown once."""

    list_display = ["name", "user", "prefix", "scope", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "user",
            "name",
            "prefix",
            "scope",
            "created_at",
            "created_by",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "scope", "days", "rate_limit"]
        return [*self.get_readonly_fields(request, obj), "rate_limit"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["rate_limit"])
            return
        token, secret = token_create(
            actor=request.user,
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=clock.now() + timedelta(days=form.cleaned_data["days"]),
        )
        if form.cleaned_data.get("rate_limit"):
            token.rate_limit = form.cleaned_data["rate_limit"]
            token.save(update_fields=["rate_limit"])
        obj.pk, obj.prefix = token.pk, token.prefix
        request._new_token_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "token": obj,
            "secret": request._new_token_secret,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "api/admin_token_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(actor=request.user, token_id=token.pk)
