"""PostgreSQL clusters of the test's own, on loopback: a primary made with initdb and a
streaming replica made from it with pg_basebackup, in a temporary folder, started and
stopped by the test. Debian's server binaries (/usr/lib/postgresql/*/bin) run as the
current user, or as the `postgres` system user when that is root (the server refuses root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.ops.installation import free_port


def server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    return Path(found[-1]).parent if found else None


class Cluster:
    def __init__(self, folder: Path, bin_dir: Path, port: int):
        self.folder, self.bin, self.port = folder, bin_dir, port
        self.data = folder / f"data-{port}"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/casedesk"

    def _run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_as_owner,
            cwd=self.folder,
        )
        if done.returncode:
            raise AssertionError(f"{args[0]} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / f"log-{self.port}"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def sql(self, query: str, dbname: str = "postgres") -> str:
        return subprocess.run(
            [str(self.bin / "psql"), *self.args(dbname), "-Atc", query],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    def args(self, dbname: str) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", dbname]


def _owner() -> pwd.struct_passwd | None:
    return pwd.getpwnam("postgres") if os.getuid() == 0 else None


def _as_owner() -> None:
    owner = _owner()
    if owner is not None:
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)


def primary(bin_dir: Path, prefix: str = "casedesk-cluster-") -> tuple[Path, Cluster]:
    """A started cluster of the test's own, with a `casedesk` database: one the test may
    stop and start (the machine's shared server is never restarted by a test)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    owner = _owner()
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(folder, bin_dir, free_port())
    # (initdb's trust configuration also lets loopback make replication connections)
    cluster._run(
        str(bin_dir / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-N"
    )
    cluster.start()
    cluster.sql("CREATE DATABASE casedesk")
    return folder, cluster


def primary_and_replica(bin_dir: Path) -> tuple[Path, Cluster, Cluster]:
    """A started primary (with a `casedesk` database) and its started streaming replica."""
    folder, source = primary(bin_dir, prefix="casedesk-replica-")
    replica = Cluster(folder, bin_dir, free_port())
    source._run(
        str(bin_dir / "pg_basebackup"),
        "-h",
        "127.0.0.1",
        "-p",
        str(source.port),
        "-U",
        "postgres",
        "-D",
        str(replica.data),
        "-R",  # standby.signal and the primary's address: a streaming replica
        "-X",
        "stream",
    )
    replica.start()
    deadline = time.monotonic() + 60
    while replica.sql("SELECT status FROM pg_stat_wal_receiver") != "streaming":
        if time.monotonic() > deadline:
            raise AssertionError("the replica does not stream from the primary")
        time.sleep(0.2)
    return folder, source, replica


def remove(folder: Path, *clusters: Cluster) -> None:
    for cluster in clusters:
        with contextlib.suppress(AssertionError):  # (one that never started)
            cluster.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)
