"""A real Casedesk installation for tests that run it as an operator would: its own data
directory and database, the `casedesk` command in subprocesses, servers on loopback."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CASEDESK = str(Path(sys.executable).with_name("casedesk"))
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen | None = None, timeout: float = 90) -> bytes:
    """The body of `url` once it answers 200 (a TLS URL without checking the certificate)."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as answer:  # noqa: S310
                return answer.read()
        except OSError as exc:
            if process is not None and process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"the server stopped: {output}") from exc
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


class Installation:
    def __init__(self, data_dir: Path, **env: str):
        self.data_dir = data_dir
        self.env = {
            k: v
            for k, v in os.environ.items()
            # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process, for themselves)
            if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
            and not k.startswith("CASEDESK_")
        }
        self.env.update(CASEDESK_DATA_DIR=str(data_dir), CASEDESK_SECRET_KEY="k" * 60)
        self.env.update(env)
        self.processes: list[subprocess.Popen] = []

    def run(self, *args: str, check: bool = True, stdin: str | None = None):
        return subprocess.run(
            [CASEDESK, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            input=stdin,
            timeout=300,
        )

    def start(self, *args: str, log_to: Path | None = None, **env: str) -> subprocess.Popen:
        """A long-running `casedesk` command; its output is read when it is stopped, or
        goes to the file `log_to` as it comes (for one that says much: a pipe nobody reads
        fills up and stops it)."""
        output = log_to.open("a") if log_to is not None else subprocess.PIPE
        try:
            process = subprocess.Popen(
                [CASEDESK, *args],
                env={**self.env, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        finally:
            if log_to is not None:
                output.close()  # (the process has its own copy)
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        return output or ""

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate and key for `host`, made here (the `cryptography` package)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


NGINX_CONF = """
user {user};
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        client_max_body_size {max_body};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def start_nginx(folder: Path, *, port: int, upstream: int, max_body: str = "100m"):
    """nginx ending TLS on loopback `port` and passing requests to `upstream`, as README
    "Behind a reverse proxy" shows; from a configuration of its own in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(folder)
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            dir=folder,
            port=port,
            cert=cert,
            key=key,
            upstream=upstream,
            max_body=max_body,
            # workers run as the user who runs the test (root's would drop to nobody, who
            # may not write the temporary folders here); as anyone else, nginx ignores it
            user=pwd.getpwuid(os.getuid()).pw_name,
        )
    )
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(folder),
            "-e",
            str(folder / "error.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = folder / "error.log"
                said = process.stdout.read() if process.stdout else ""
                raise AssertionError(
                    f"nginx did not start: {said}{log.read_text() if log.exists() else ''}"
                ) from None
            time.sleep(0.2)
