"""Reads of the contacts app."""

from django.db.models import F

from contacts.models import Contact


def contacts_list(*, owner_id: str) -> list[Contact]:
    """The owner's contacts, most recent conversation first, never-messaged last: one query."""
    return list(
        Contact.objects.filter(owner_id=owner_id)
        .select_related("contact")
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-id")
    )


def nicknames_of(*, owner_id: str, clerk_ids) -> dict[str, str | None]:
    rows = Contact.objects.filter(owner_id=owner_id, contact_id__in=list(clerk_ids))
    return dict(rows.values_list("contact_id", "nickname"))
