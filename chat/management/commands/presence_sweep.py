from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from users.presence import presence_sweep


def _some(ids: list[str]) -> str:
    return f" ({', '.join(ids[:20])}{', …' if len(ids) > 20 else ''})" if ids else ""


class Command(BaseCommand):
    help = "Drop presence left by crashed server processes and make users.status agree with it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="without REDIS_URL presence lives inside the server process, so this command sees "
            "nobody online and marks everyone offline: only right when no server is running",
        )

    def handle(self, *args, force, **options):
        if not settings.REDIS_URL and not force:
            raise CommandError(
                "REDIS_URL is not set: presence lives inside the server process and this command cannot "
                "see it. With no server running (after a crash, before a start), run it with --force "
                "to mark every user offline."
            )
        expired, stale = presence_sweep()
        self.stdout.write(f"expired leases cleared; users left offline: {len(expired)}{_some(expired)}")
        self.stdout.write(f"status set offline: {len(stale)}{_some(stale)}")
