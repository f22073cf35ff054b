"""`casedesk backup` and `casedesk restore` on real installations: an archive made while
tickets with files are being written restores into an empty installation with the same
data, row for row, and every file its rows name, byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from casedesk.ops.backup import _safe_name
from tests.conftest import POSTGRES
from tests.ops.installation import Installation

WRITER = """
from casedesk.accounts.models import User
from casedesk.desks.models import Desk
from casedesk.tickets import services
from casedesk.tickets.attachments import BytesUpload
member = User.objects.get(username="acme.member")
desk = Desk.objects.get(key_prefix="GEN")
for n in range({count}):
    services.ticket_create(
        actor=member, desk=desk, title=f"Written during the backup {{n}}",
        attachments=[BytesUpload(f"log-{{n}}.txt", (f"line {{n}}\\n" * (200 + n)).encode())],
    )
    if n == 4:
        print("written", flush=True)
"""

CHECK_FILES = """
import hashlib, json
from django.core.files.storage import default_storage
from casedesk.tickets.models import Attachment
rows = list(Attachment.objects.values_list("file", "sha256"))
bad = [f for f, sha in rows if hashlib.sha256(default_storage.open(f).read()).hexdigest() != sha]
print(json.dumps({"rows": len(rows), "bad": bad}))
"""


def _dump(installation: Installation) -> list[dict]:
    out = installation.run("manage", "dumpdata", "--indent", "0").stdout
    return sorted(json.loads(out), key=lambda row: (row["model"], str(row["pk"])))


def _files(installation: Installation) -> dict[str, str]:
    media = installation.data_dir / "media"
    return {
        str(p.relative_to(media)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in media.rglob("*")
        if p.is_file()
    }


def _round_trip(tmp_path: Path, source_env: dict, target_env: dict) -> None:
    source = Installation(tmp_path / "source", **source_env)
    source.run("manage", "migrate", "-v0")
    source.run("demo")
    # tickets with files are written while the backup runs
    writer = source.start("manage", "shell", "-c", WRITER.format(count=20))
    assert writer.stdout is not None
    while "written" not in writer.stdout.readline():
        assert writer.poll() is None, writer.stdout.read()
    archive = tmp_path / "casedesk.tar"
    made = source.run("backup", str(archive))
    assert writer.wait(timeout=300) == 0, writer.stdout.read()
    with tarfile.open(archive) as opened:
        manifest = json.load(opened.extractfile("manifest.json"))
    assert manifest["files"] >= 5 and "database and" in made.stdout

    target = Installation(tmp_path / "target", **target_env)
    restored = target.run("restore", str(archive))
    assert "restored from" in restored.stdout
    check = json.loads(target.run("manage", "shell", "-c", CHECK_FILES).stdout.splitlines()[-1])
    assert check["bad"] == [] and check["rows"] >= 5  # every row's file, byte for byte

    # the same again, with nothing written meanwhile: the two are equal, row for row
    source.run("backup", str(archive))
    again = Installation(tmp_path / "again", **{**target_env, **_fresh(target_env)})
    again.run("restore", str(archive))
    assert _dump(again) == _dump(source)
    if "DATABASE_URL" not in source_env:
        assert _files(again) == _files(source)

    refused = target.run("restore", str(archive), check=False)
    assert refused.returncode == 1 and "not empty" in refused.stderr


def _fresh(env: dict) -> dict:
    """For PostgreSQL, another empty database."""
    if "DATABASE_URL" not in env:
        return {}
    return {"DATABASE_URL": _new_database()}


_made: list[str] = []


def _new_database() -> str:
    import psycopg

    db = settings.DATABASES["default"]
    name = f"casedesk_backup_{uuid.uuid4().hex[:10]}"
    host, port, user = db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    with psycopg.connect(
        host=host, port=port, user=user, password=db.get("PASSWORD") or None, dbname="postgres"
    ) as conn:
        conn.autocommit = True
        conn.execute(f'CREATE DATABASE "{name}"')
    _made.append(name)
    return f"postgres://{user}{password}@{host}:{port}/{name}"


@pytest.fixture
def databases_dropped():
    yield
    if not _made:
        return
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname="postgres",
    ) as conn:
        conn.autocommit = True
        while _made:
            conn.execute(f'DROP DATABASE IF EXISTS "{_made.pop()}" WITH (FORCE)')


def test_backup_and_restore(tmp_path, databases_dropped):
    """On the engine of this test pass: SQLite's online backup, or pg_dump/pg_restore."""
    if POSTGRES:
        _round_trip(tmp_path, {"DATABASE_URL": _new_database()}, {"DATABASE_URL": _new_database()})
    else:
        _round_trip(tmp_path, {}, {})


def test_restore_takes_only_files_of_casedesk_from_an_archive():
    def member(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        return info

    assert _safe_name(member("files/attachments/3/2026/11/abc")) == "attachments/3/2026/11/abc"
    for hostile in (
        "files/../secret_key",
        "files/attachments/../../casedesk.sqlite3",
        "/files/attachments/x",
        "files/other/x",
        "database.sqlite3",
    ):
        assert _safe_name(member(hostile)) is None, hostile
    assert _safe_name(member("files/attachments/x", tarfile.SYMTYPE)) is None


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.tar"
    with tarfile.open(junk, "w") as archive:
        data = b'{"format": 99}'
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    installation = Installation(tmp_path / "data")
    for path, said in ((junk, "format 99"), (tmp_path / "missing.tar", "not a Casedesk backup")):
        done = installation.run("restore", str(path), check=False)
        assert done.returncode == 1 and said in done.stderr
