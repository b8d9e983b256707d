import json

from django.core.management.base import BaseCommand, CommandError

from chat.reports import conversation_export
from kernel.errors import NotFoundError


class Command(BaseCommand):
    help = "Print one conversation (participants and every message) as JSON or text, for a data request."

    def add_arguments(self, parser):
        parser.add_argument("conversation_id", type=int)
        parser.add_argument("--format", choices=["json", "text"], default="json")

    def handle(self, *args, conversation_id, format, **options):
        try:
            export = conversation_export(conversation_id=conversation_id)
        except NotFoundError as exc:
            raise CommandError(exc.message) from exc
        if format == "json":
            self.stdout.write(json.dumps(export, indent=2, ensure_ascii=False))
            return
        names = {p["clerkId"]: p["fullName"] or p["username"] or p["clerkId"] for p in export["participants"]}
        self.stdout.write(
            f"Conversation {export['conversationId']} between "
            + " and ".join(f"{name} ({clerk_id})" for clerk_id, name in names.items())
        )
        self.stdout.write(
            f"Started {export['createdAt']}; exported {export['exportedAt']}; {len(export['messages'])} message(s)"
        )
        self.stdout.write("")
        for m in export["messages"]:
            content = m["content"]
            if m["removedAt"] is not None:
                content = f"[removed by a moderator at {m['removedAt']}]"
            elif m["deletedAt"] is not None:
                content = f"[deleted by its sender at {m['deletedAt']}]"
            elif m["editedAt"] is not None:
                content += f"  (edited {m['editedAt']})"
            read = f", read {m['readAt']}" if m["readAt"] else ""
            self.stdout.write(f"[{m['createdAt']}] {names[m['fromClerkId']]}: {content}  (#{m['id']}{read})")
