"""A real IMAP server for tests: Dovecot from Debian's packages, started with a temporary
configuration (IMAPS with a throw-away certificate, one user, a Maildir)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-test-secret"  # a throw-away server's password

CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
auth_mechanisms = plain
default_internal_user = {user}
default_login_user = {user}
first_valid_uid = 0
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def available() -> bool:
    return Path(DOVECOT).exists()


class Dovecot:
    def __init__(self, base: Path, port: int):
        self.base, self.port = base, port
        self.process: subprocess.Popen | None = None

    @property
    def cafile(self) -> str:
        return str(self.base / "cert.pem")

    def url(self, user: str = "desk") -> str:
        return f"imaps://{user}@127.0.0.1:{self.port}/INBOX"

    def start(self) -> None:
        base = self.base
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(base / "key.pem"), "-out", str(base / "cert.pem"),
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        user = "dovecot" if _exists("dovecot") else pwd.getpwuid(os.getuid()).pw_name
        entry = pwd.getpwnam(user)
        os.chown(base / "mail", entry.pw_uid, entry.pw_gid)
        os.chmod(base, 0o755)  # noqa: S103 (Dovecot reads the mail as its own user)
        (base / "dovecot.conf").write_text(
            CONFIG.format(
                base=base,
                user=user,
                uid=entry.pw_uid,
                gid=entry.pw_gid,
                port=self.port,
                password=PASSWORD,
            )
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(base / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
        out = self.process.stdout.read().decode() if self.process.poll() is not None else ""
        self.stop()
        raise RuntimeError(f"dovecot did not start: {out} {log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self, user: str = "desk"):
        import imaplib
        import ssl

        conn = imaplib.IMAP4_SSL(
            "127.0.0.1", self.port, ssl_context=ssl.create_default_context(cafile=self.cafile)
        )
        conn.login(user, PASSWORD)
        conn.select("INBOX")
        return conn

    def append(self, *messages: bytes, user: str = "desk") -> None:
        conn = self.client(user)
        for raw in messages:
            conn.append("INBOX", None, None, raw)
        conn.logout()

    def flags(self, user: str = "desk") -> list[str]:
        conn = self.client(user)
        _, data = conn.fetch("1:*", "(FLAGS)")
        conn.logout()
        return [d.decode() for d in data if d]


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
