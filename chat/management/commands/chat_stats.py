import argparse
import json

from django.core.management.base import BaseCommand

from chat.reports import chat_stats


def positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, at least 1, not {value!r}")
    return days


class Command(BaseCommand):
    help = "Users, online now, messages per day and the unread backlog."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=positive_days, default=7, help="days of messages per day, at least 1 (default 7)"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of text")

    def handle(self, *args, days, as_json, **options):
        stats = chat_stats(days=days)
        if as_json:
            self.stdout.write(json.dumps(stats, indent=2))
            return
        users, backlog = stats["users"], stats["unreadBacklog"]
        self.stdout.write(
            f"users: {users['total']} ({users['active']} active, {users['suspended']} suspended, "
            f"{users['paralyzed']} isParalyzed)"
        )
        self.stdout.write(f"online now: {stats['onlineNow']} (status column says {users['status_online']})")
        self.stdout.write(f"messages: {stats['messagesTotal']} in total")
        self.stdout.write(f"messages per day (UTC), last {len(stats['messagesPerDay'])} days:")
        for day, count in stats["messagesPerDay"].items():
            self.stdout.write(f"  {day}  {count}")
        self.stdout.write(
            f"unread backlog: {backlog['messages']} message(s) for {backlog['recipients']} user(s), "
            f"{backlog['undelivered']} never delivered, oldest {backlog['oldest'] or '-'}"
        )
