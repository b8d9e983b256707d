from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chat.realtime import presence
from users.models import User
from users.services import users_status_reconcile

CHUNK = 1000


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
        sweep = getattr(presence, "sweep", None)
        if sweep is not None:
            swept = sweep()
            self.stdout.write(f"expired presence entries cleared: {swept if swept is not None else 'done'}")
        online: set[str] = set()
        ids = list(User.objects.values_list("clerk_id", flat=True))
        for start in range(0, len(ids), CHUNK):
            online |= presence.online_among(ids[start:start + CHUNK])
        set_online, set_offline = users_status_reconcile(online_clerk_ids=online)
        self.stdout.write(f"online now: {len(online)}")
        self.stdout.write(f"status set offline: {len(set_offline)}" + (f" ({', '.join(set_offline[:20])})" if set_offline else ""))
        self.stdout.write(f"status set online: {len(set_online)}" + (f" ({', '.join(set_online[:20])})" if set_online else ""))
