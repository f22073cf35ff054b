from django.core.management.base import BaseCommand, CommandError

from casedesk.ops.demo import database_is_empty, demo_load


class Command(BaseCommand):
    help = "Load demo data: a desk per preset, organisations, people for every role, tickets."

    def handle(self, *args, **options):
        if not database_is_empty():
            raise CommandError(
                "The database already has data; demo data goes only into an empty one."
            )
        for username, role, password in demo_load():
            self.stdout.write(f"{username:<16} {role:<44} {password}")
