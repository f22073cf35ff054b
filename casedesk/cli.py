"""The `casedesk` command.

casedesk run [--host H] [--port P] [--no-demo]   web and worker together, demo data if empty
casedesk serve [--processes N] [--threads T]      the web app for production (gunicorn)
casedesk worker [--once]                          fire due timers and run background tasks
casedesk demo                                     load demo data into an empty database
casedesk backup FILE                              database and files into one archive
casedesk restore FILE                             an archive into an empty installation
casedesk workflows check [FILE ...]               check workflow files (all presets if none)
casedesk mail serve|poll|import|deliver|reprocess  mail in (see `casedesk mail -h`)
casedesk manage ARGS ...                          any Django management command
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")
    import django

    django.setup()


def _production_environment() -> None:
    """What `casedesk serve` needs before Django starts: collected static files (hashed
    names, compressed) and one folder where all its processes add up their metrics."""
    import shutil

    from casedesk.common.datadir import data_dir

    os.environ.setdefault("CASEDESK_STATIC_ROOT", str(data_dir() / "static"))
    folder = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(data_dir() / "run" / "metrics"))
    shutil.rmtree(folder, ignore_errors=True)  # as prometheus_client asks, at each start
    os.makedirs(folder, mode=0o700, exist_ok=True)


def backup_command(command: str, file: Path) -> int:
    from casedesk.ops.backup import BackupError, backup_make, backup_restore

    try:
        manifest = backup_make(file) if command == "backup" else backup_restore(file)
    except BackupError as exc:
        print(f"casedesk {command}: {exc}", file=sys.stderr)
        return 1
    done = "written to" if command == "backup" else "restored from"
    print(
        f"{manifest['engine']} database and {manifest['files']} file(s) {done} {file} "
        f"(made {manifest['made_at']})"
    )
    return 0


def workflows_check(files: list[str]) -> int:
    """One line per problem; exit status 1 if there is any. Needs no database."""
    from casedesk.workflow import check_files, preset_paths

    paths = [Path(f) for f in files] if files else preset_paths()
    problems = check_files(paths)
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s)",
            file=sys.stderr,
        )
        return 1
    print(f"{len(paths)} workflow file(s) OK")
    return 0


def address_for(host: str, port: int, env=os.environ) -> None:
    """Make links in mail and webhooks follow the address `casedesk run` serves on, unless
    CASEDESK_BASE_URL names the address people use (a proxy in front, a real name). The
    settings accept requests for the host of that address. Runs before they are read."""
    wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 (a name we are given, not bound)
    named = f"[{host}]" if ":" in host else host
    if not env.get("CASEDESK_BASE_URL"):
        shown = "127.0.0.1" if wildcard else named
        env["CASEDESK_BASE_URL"] = f"http://{shown}:{port}"
        if wildcard:
            print(
                f"Listening on every address; links in mail say http://127.0.0.1:{port}. "
                "Set CASEDESK_BASE_URL to the address people use.",
                file=sys.stderr,
            )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="casedesk", description="Casedesk service desk")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start web and worker (demo data on an empty database)")
    run.add_argument("--host", default=os.environ.get("CASEDESK_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("CASEDESK_PORT", "8000")))
    run.add_argument("--no-demo", action="store_true", help="do not load demo data")
    run.add_argument(
        "--no-worker", action="store_true", help="web only; run `casedesk worker` apart"
    )

    production = sub.add_parser("serve", help="the web app for production: gunicorn, N processes")
    production.add_argument("--host", default=os.environ.get("CASEDESK_HOST", "127.0.0.1"))
    production.add_argument(
        "--port", type=int, default=int(os.environ.get("CASEDESK_PORT", "8000"))
    )
    production.add_argument(
        "--processes",
        type=int,
        default=int(os.environ.get("CASEDESK_WEB_PROCESSES", "2")),
        help="web processes (default 2, or CASEDESK_WEB_PROCESSES)",
    )
    production.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("CASEDESK_WEB_THREADS", "4")),
        help="threads per process (default 4, or CASEDESK_WEB_THREADS)",
    )

    worker = sub.add_parser("worker", help="fire due timers and run background tasks")
    worker.add_argument("--once", action="store_true", help="do everything due now, then exit")
    worker.add_argument("--interval", type=float, default=None, help="seconds between rounds")

    sub.add_parser("demo", help="load demo data (only into an empty database)")
    backup = sub.add_parser("backup", help="the database and the stored files into one archive")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="a backup archive into an empty installation")
    restore.add_argument("file", type=Path)

    workflows = sub.add_parser("workflows", help="workflow files")
    wf_sub = workflows.add_subparsers(dest="action", required=True)
    check = wf_sub.add_parser("check", help="check workflow files; all presets when none is given")
    check.add_argument("files", nargs="*")

    mail = sub.add_parser(
        "mail",
        help="mail in: serve (LMTP/SMTP), poll (IMAP), import (Maildir/mbox), deliver, reprocess",
        add_help=False,
    )
    mail.add_argument("args", nargs=argparse.REMAINDER)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    if args.command == "workflows":
        return workflows_check(args.files)
    if args.command == "serve":
        _production_environment()

    if args.command == "run":
        address_for(args.host, args.port)
    _django()
    from django.core.management import call_command, execute_from_command_line

    if args.command == "manage":
        execute_from_command_line(["casedesk manage", *args.args])
        return 0
    if args.command == "mail":
        execute_from_command_line(["casedesk", "mail", *args.args])
        return 0
    if args.command == "worker":
        options = {"once": args.once}
        if args.interval is not None:
            options["interval"] = args.interval
        call_command("worker", **options)
        return 0
    if args.command in ("backup", "restore"):
        return backup_command(args.command, args.file)
    if args.command == "demo":
        call_command("demo")
        return 0
    if args.command == "serve":
        from casedesk.ops.production import serve_production

        return serve_production(
            host=args.host, port=args.port, processes=args.processes, threads=args.threads
        )
    from casedesk.ops.serve import serve

    return serve(host=args.host, port=args.port, demo=not args.no_demo, worker=not args.no_worker)


if __name__ == "__main__":
    sys.exit(main())
