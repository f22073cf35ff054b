"""Where an installation keeps its files, read from the environment before Django starts
(settings and the `casedesk` command both need it)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """CASEDESK_DATA_DIR, else $XDG_DATA_HOME/casedesk or ~/.local/share/casedesk; made if
    missing."""
    configured = os.environ.get("CASEDESK_DATA_DIR")
    if configured:
        path = Path(configured).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        path = Path(xdg) / "casedesk"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()
