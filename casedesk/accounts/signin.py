"""Who a request comes from, read at the start of every signed-in request: the session
and the person it belongs to.

Both are Django's own (the database session store, the model backend) with one change:
each read is one kept statement instead of a query the ORM builds again for every request,
which cost more than running it (casedesk/common/rows.py). The person is read together
with their organisation, which every customer page shows and the ticket visibility rule
asks for. Sessions keep their table and format, so signed-in people stay signed in.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.utils import timezone

from casedesk.common.rows import Prepared

from .models import User

_person = Prepared(lambda pk: User.objects.select_related("organisation").filter(pk=pk).order_by())


class AccountBackend(ModelBackend):
    """The model backend; the person of a session is read with their organisation."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = _person.one(int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and username is not None and password is not None:
            # Checked here and refused: the next backend in the list (Django's own, kept
            # for sessions begun before this one) would hash the password a second time.
            raise PermissionDenied
        return user


class _Found:
    __slots__ = ("session_data",)

    def __init__(self, data: str):
        self.session_data = data


class SessionStore(DatabaseSessionStore):
    """Django's database session store, reading a session from a kept statement."""

    _sql: dict[str, str] = {}

    def _get_session_from_db(self):
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        sql = self._sql.get(alias)
        if sql is None:
            meta, quote = self.model._meta, connection.ops.quote_name
            data, key, expires = (
                quote(str(meta.get_field(name).column))
                for name in ("session_data", "session_key", "expire_date")
            )
            # (names from the model's own metadata, quoted; the values are parameters)
            sql = self._sql[alias] = (
                f"SELECT {data} FROM {quote(meta.db_table)}"  # noqa: S608
                f" WHERE {key} = %s AND {expires} > %s"
            )
        key = self.session_key
        if not key:
            self._session_key = None
            return None
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return _Found(row[0])
