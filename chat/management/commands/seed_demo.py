import logging

from django.core.management.base import BaseCommand

from chat.demo import demo_seed


class Command(BaseCommand):
    help = "Create demo users (some isParalyzed), contacts and conversations. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user", dest="clerk_id", help="also connect this Clerk user id to the demo users (your own account)"
        )

    def handle(self, *args, clerk_id=None, **options):
        # The services log every message they store (a server's log lines); here they would break
        # up the summary below, which already says what was made. Warnings still show.
        logging.disable(logging.INFO)
        try:
            totals = demo_seed(for_clerk_id=clerk_id, progress=self.stdout.write)
        finally:
            logging.disable(logging.NOTSET)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo data ready: {totals['users']} user(s), {totals['contacts']} contact(s), "
                f"{totals['messages']} message(s) created; {totals['messages_existing']} message(s) already there"
            )
        )
