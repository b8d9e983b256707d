"""Rebuild users' suggestion models from the stored messages (after restoring a backup, or
changing the model's bounds): every message up to the learning cursor, removed ones left out."""

from django.core.management.base import BaseCommand

from assist.learning import assist_models_rebuild


class Command(BaseCommand):
    help = "Rebuild the suggestion models of every user (or one) from stored messages."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this Clerk id's model.")

    def handle(self, *args, user=None, **options):
        read = assist_models_rebuild(clerk_id=user)
        self.stdout.write(f"rebuilt from {read} messages")
