"""Password reset mail, sent by the worker.

The page only queues the request: it answers in the same time whether or not the address
belongs to anyone, and a slow mail server cannot be timed through it. The link always
points at the configured address, never at the request's Host header."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm

EMAIL_TEMPLATE = "web/password_reset_email.txt"
SUBJECT_TEMPLATE = "web/password_reset_subject.txt"


def reset_mail_send(*, email: str) -> int:
    """Mail a reset link to every active account with a usable password at `email`;
    returns how many were sent."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    if not users:
        return 0
    parts = urlsplit(settings.BASE_URL)
    form.save(
        domain_override=parts.netloc,
        use_https=parts.scheme == "https",
        subject_template_name=SUBJECT_TEMPLATE,
        email_template_name=EMAIL_TEMPLATE,
        extra_email_context={"domain": parts.netloc},
    )
    return len(users)
