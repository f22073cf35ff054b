"""`casedesk run`: migrate, load demo data into an empty database, then serve the web
app and run the worker in the same process (the embedded default)."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command

log = logging.getLogger("casedesk")


def serve(*, host: str, port: int, demo: bool, worker: bool) -> int:
    from waitress import serve as waitress_serve

    from casedesk.ops.demo import database_is_empty, demo_load
    from casedesk.ops.worker import run_forever
    from casedesk.wsgi import application

    call_command("migrate", interactive=False, verbosity=0)
    if demo and database_is_empty():
        credentials = demo_load()
        print("\nDemo data loaded. Log in as any of these (the README lists them too):")
        width = max(len(username) for username, _, _ in credentials)
        for username, role, password in credentials:
            print(f"  {username:<{width}}  {role:<40} {password}")
    print(f"\nCasedesk is running at http://{host}:{port}/  (admin: /admin/)  Stop with Ctrl+C.")
    print(f"Data directory: {settings.DATA_DIR}", flush=True)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "threads": 8,
        "ident": "Casedesk",
        # refused by its Content-Length before a byte of the body is read
        "max_request_body_size": settings.CASEDESK_MAX_REQUEST_BYTES,
        # The proxy's headers reach Django, which trusts them only as configured
        # (CASEDESK_PROXY_SSL_HEADER, CASEDESK_TRUSTED_PROXIES); waitress would drop them.
        "clear_untrusted_proxy_headers": False,
    }
    if not worker:
        with contextlib.suppress(KeyboardInterrupt):
            waitress_serve(application, **options)
        return 0
    # The web server in a thread, the worker on the main thread: django-tasks' worker
    # takes the signals, which only the main thread may.
    web = threading.Thread(
        target=waitress_serve,
        args=(application,),
        kwargs=options,
        name="web",
        daemon=True,
    )
    web.start()
    run_forever()
    return 0
