"""The learner as a process of its own (ASSIST_LEARN_IN_SERVER=false keeps it out of the
servers): learns new messages every ASSIST_LEARN_SECONDS until stopped."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from assist.learning import assist_learn_pending

BATCH = 2000


class Command(BaseCommand):
    help = "Learn new messages into users' suggestion models, every ASSIST_LEARN_SECONDS (or --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Learn what is pending, then exit.")

    def handle(self, *args, once=False, **options):
        while True:
            learned = 0
            while read := assist_learn_pending(batch=BATCH):
                learned += read
            if once:
                self.stdout.write(f"learned {learned} messages")
                return
            time.sleep(settings.ASSIST_LEARN_SECONDS)
