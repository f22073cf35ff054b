"""`casedesk backup FILE` and `casedesk restore FILE`: the database and the stored files in
one tar archive.

The database is copied first, as one consistent snapshot (SQLite's online backup API,
which works while other processes write; `pg_dump`'s single transaction on PostgreSQL),
then the files through the storage API (local disk, or an object store). A file is always
stored before the row that names it is committed, and never removed while a row names it,
so every file the snapshot refers to is in the archive; a file of a change that was still
in progress may come along too, and the orphan sweep removes it after a restore.

A restore goes into an empty installation only (no tables in its database, no files in its
storage), so nothing is ever half overwritten; run `casedesk manage migrate` after it, in
case the archive is from an older release.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1
TOP_FOLDERS = ("attachments",)  # what Casedesk stores; anything else in the storage is not ours


class BackupError(Exception):
    """Why a backup or restore could not be made; nothing was changed."""


def _database() -> dict[str, Any]:
    return settings.DATABASES["default"]


def _pg_env() -> dict[str, str]:
    db = _database()
    env = dict(os.environ)
    env.update(
        PGHOST=str(db.get("HOST") or "127.0.0.1"),
        PGPORT=str(db.get("PORT") or 5432),
        PGUSER=str(db.get("USER") or ""),
        PGDATABASE=str(db["NAME"]),
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _stored_files() -> list[str]:
    found: list[str] = []
    folders = [f for f in TOP_FOLDERS]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        folders.extend(f"{folder}/{name}" for name in subfolders)
        found.extend(f"{folder}/{name}" for name in files)
    return sorted(found)


def _snapshot_database(folder: Path) -> str:
    if connection.vendor == "sqlite":
        target = folder / "database.sqlite3"
        source = sqlite3.connect(str(_database()["NAME"]))
        copy = sqlite3.connect(str(target))
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target.name
    if connection.vendor == "postgresql":
        target = folder / "database.pgdump"
        done = subprocess.run(  # noqa: S603 (our own arguments; the database from settings)
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
            ],
            env=_pg_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return target.name
    raise BackupError(f"backups of {connection.vendor} databases are not supported")


def backup_make(path: Path) -> dict[str, Any]:
    """Write the archive to `path` (through a temporary file beside it, renamed at the end,
    so a broken run leaves no half archive); returns its manifest."""
    path = path.resolve()
    with tempfile.TemporaryDirectory(prefix="casedesk-backup-") as work:
        applied = sorted(
            f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()
        )
        database = _snapshot_database(Path(work))
        files = _stored_files()
        manifest = {
            "format": FORMAT,
            "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": connection.vendor,
            "database": database,
            "migrations": applied,
            "files": len(files),
        }
        partial = path.with_name(f".{path.name}.partial")
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(Path(work) / database, arcname=database)
            for name in files:
                info = tarfile.TarInfo(f"files/{name}")
                info.size = default_storage.size(name)
                with default_storage.open(name, "rb") as handle:
                    archive.addfile(info, handle)
        partial.replace(path)
    return manifest


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _safe_name(member: tarfile.TarInfo) -> str | None:
    """The storage name of an archived file, or None for anything else."""
    name = PurePosixPath(member.name)
    if not member.isfile() or name.parts[:1] != ("files",) or len(name.parts) < 3:
        return None
    if any(part in ("", ".", "..") for part in name.parts) or name.is_absolute():
        return None
    if name.parts[1] not in TOP_FOLDERS:
        return None
    return str(PurePosixPath(*name.parts[1:]))


def backup_restore(path: Path) -> dict[str, Any]:
    """Restore the archive at `path` into this (empty) installation; returns its manifest."""
    try:
        archive = tarfile.open(path, "r")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{path} is not a Casedesk backup: {exc}") from None
    with archive:
        try:
            manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        except (KeyError, ValueError) as exc:
            raise BackupError(f"{path} has no readable manifest.json: {exc}") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
        if manifest.get("engine") != connection.vendor:
            raise BackupError(
                f"this backup is of a {manifest.get('engine')} database; this installation "
                f"uses {connection.vendor}"
            )
        if not _database_is_empty():
            raise BackupError("the database is not empty: restore into a new installation only")
        if _stored_files():
            raise BackupError("the file storage is not empty: restore into a new installation")
        with tempfile.TemporaryDirectory(prefix="casedesk-restore-") as work:
            member = archive.getmember(manifest["database"])
            source = archive.extractfile(member)
            if source is None:
                raise BackupError("the archive's database is not a file")
            dump = Path(work) / "database"
            with source, dump.open("wb") as out:
                shutil.copyfileobj(source, out)
            _restore_database(dump)
        restored = 0
        for member in archive:
            name = _safe_name(member)
            if name is None:
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            with handle:
                saved = default_storage.save(name, File(handle, name=name))
            if saved != name:
                raise BackupError(f"the storage renamed {name} to {saved}")
            restored += 1
        if restored != manifest["files"]:
            raise BackupError(
                f"{restored} file(s) restored, the manifest lists {manifest['files']}"
            )
    return manifest


def _restore_database(dump: Path) -> None:
    if connection.vendor == "sqlite":
        connection.close()
        source = sqlite3.connect(str(dump))
        target = sqlite3.connect(str(_database()["NAME"]))
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    connection.close()
    done = subprocess.run(  # noqa: S603 (our own arguments; the database from settings)
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_pg_env()['PGDATABASE']}",
            str(dump),
        ],
        env=_pg_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
