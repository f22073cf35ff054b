from django.core.management.base import BaseCommand

from casedesk.ops.worker import run_forever, run_once


class Command(BaseCommand):
    help = "Fire due timers and run background tasks (continuously, or --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="do everything due now, then exit")
        parser.add_argument("--interval", type=float, default=None, help="seconds between rounds")

    def handle(self, *args, once=False, interval=None, **options):
        if once:
            fired, ran = run_once()
            self.stdout.write(f"fired {fired} timer(s), ran {ran} task(s)")
        else:
            run_forever(interval)
