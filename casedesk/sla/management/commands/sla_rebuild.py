from django.core.management.base import BaseCommand, CommandError

from casedesk.desks.models import Desk
from casedesk.sla.clocks import sla_rebuild


class Command(BaseCommand):
    help = "Compute every ticket's SLA clocks again from its history and the SLA revisions."

    def add_arguments(self, parser):
        parser.add_argument("--desk", default=None, help="only this desk (its key prefix)")

    def handle(self, *args, desk=None, **options):
        found = None
        if desk:
            found = Desk.objects.filter(key_prefix=desk).first()
            if found is None:
                raise CommandError(f"no desk with key prefix {desk!r}")
        seen, drifted = sla_rebuild(desk=found)
        self.stdout.write(f"{seen} ticket(s) replayed, {drifted} had drifted and were rewritten")
