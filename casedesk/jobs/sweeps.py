"""Work that apps find due by their own data, looked for on every worker round.

Here rather than in the worker so that an app registering a sweep imports only the core;
`casedesk.ops.worker` runs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("casedesk.worker")

Sweep = Callable[[], int]
SWEEPS: dict[str, Sweep] = {}


def register_sweep(name: str, sweep: Sweep) -> None:
    """Call once per process (an AppConfig.ready): `sweep()` runs every worker round and
    returns how much it did; it must be safe with several workers running at once."""
    SWEEPS[name] = sweep


def run_sweeps() -> int:
    done = 0
    for name, sweep in list(SWEEPS.items()):
        try:
            done += sweep()
        except Exception:  # one app's failure must not stop the others
            log.exception("sweep %s failed", name)
    return done
