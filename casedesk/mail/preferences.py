"""What each person wants to be mailed about."""

from __future__ import annotations

from .models import MailPreferences

CHOICES = ("new_tickets", "comments", "status_changes", "your_turn", "reminders", "assignments")


def preferences_for(*, user) -> dict[str, bool]:
    row = MailPreferences.objects.filter(user=user).first()
    return {name: getattr(row, name) if row else True for name in CHOICES}


def preferences_set(*, user, values: dict[str, bool]) -> dict[str, bool]:
    """Store the person's choices; names not in CHOICES are ignored."""
    MailPreferences.objects.update_or_create(
        user=user, defaults={name: bool(values.get(name)) for name in CHOICES}
    )
    return preferences_for(user=user)
