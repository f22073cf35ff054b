"""Changes people make to their own account."""

from __future__ import annotations

from django.conf import settings

from casedesk.common.errors import InvalidInput


def user_set_language(*, user, language: str) -> None:
    """Remember the language this person reads Casedesk in (pages and, later, mail)."""
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise InvalidInput({"language": f"'{language}' is not a language Casedesk speaks"})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
