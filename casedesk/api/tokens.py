"""Personal API tokens: made, found and revoked here only.

A secret looks like `cdk_<prefix>_<secret>`: the prefix finds the row, and the SHA-256
digest of the whole secret, compared in constant time, proves it. A lost database copy
gives nobody a working token. Revoking, expiry and deactivating the owner take effect on
the next request, because every request looks the token up again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.db import transaction

from casedesk.common import clock
from casedesk.common.errors import Forbidden, InvalidInput, NotFound, Problem

from .models import ApiToken

PREFIX = "cdk_"
MAX_DAYS = 366
_SHAPE = re.compile(r"^cdk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *, actor, user, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Make a token for `user` (themselves, or anyone for a supplier administrator) and
    return it with its secret, which is never shown again."""
    if not (actor.is_active and (actor.pk == user.pk or actor.is_superuser)):
        raise Forbidden("token.self_only")
    now = clock.now()
    errors: dict[str, Problem] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = Problem("token.name.invalid", limit=100)
    if scope not in ApiToken.Scope.values:
        errors["scope"] = Problem("token.scope.unknown")
    expires_at = expires_at or now + timedelta(days=90)
    if expires_at <= now:
        errors["expires_at"] = Problem("token.expiry.past")
    elif expires_at > now + timedelta(days=MAX_DAYS):
        errors["expires_at"] = Problem("token.expiry.too_far", days=MAX_DAYS)
    if not user.is_active:
        errors["user"] = Problem("token.user.inactive")
    if errors:
        raise InvalidInput(errors)
    prefix = secrets.token_hex(6)
    secret = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=_digest(secret),
        scope=scope,
        created_at=now,
        created_by=actor,
        expires_at=expires_at,
    )
    return token, secret


def token_revoke(*, actor, token_id: int) -> ApiToken:
    """Revoke one of your tokens (an administrator: anyone's); effective at once."""
    with transaction.atomic():
        rows = ApiToken.objects.select_for_update()
        if not actor.is_superuser:
            rows = rows.filter(user=actor)
        token = rows.filter(pk=token_id).first()
        if token is None:
            raise NotFound("token.not_found")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            token.save(update_fields=["revoked_at"])
    return token


def tokens_revoke_all(*, user_id: int) -> int:
    """Revoke every live token of a person (their password changed, or they left)."""
    return ApiToken.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def revoke_on_credential_change(sender, instance, update_fields=None, **kwargs) -> None:
    """A pre_save receiver for the user model: a new password or a deactivation ends the
    person's tokens, as it ends their sessions (Django ties a session to the password
    hash, and refuses inactive people)."""
    if instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every login: nothing to look up
    old = type(instance).objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password or (old["is_active"] and not instance.is_active):
        tokens_revoke_all(user_id=instance.pk)


def tokens_of(*, user) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user))


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token this secret belongs to, with its owner; None for anything else.

    Unknown, malformed, expired and revoked secrets, and tokens of people who may no longer
    log in, all look the same to the caller."""
    match = _SHAPE.match(secret or "")
    if match is None:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(prefix=match.group(1))
        .first()
    )
    # compare even when nothing was found, so both cases take the same time
    expected = token.digest if token is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(secret)) or token is None:
        return None
    if token.revoked_at is not None or token.expires_at <= clock.now():
        return None
    if not token.user.is_active:
        return None
    return token
