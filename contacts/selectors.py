"""Reads of the contacts app."""

from django.db.models import Exists, F, OuterRef

from contacts.models import Contact
from kernel.queries import CompiledValues
from kernel.timestamps import IsoZ
from users.models import Block

# What GET /contacts shows of a contact row and of the contact's profile; timestamps already
# written as the API writes them (`*_iso`, see kernel.timestamps.IsoZ).
CONTACT_ROW_FIELDS = (
    "id",
    "contact_id",
    "nickname",
    "last_message_preview",
    "unread_count",
    "contact__full_name",
    "contact__username",
    "contact__image_url",
    "contact__is_paralyzed",
)
CONTACT_ROW_TIMESTAMPS = {
    "last_message_at_iso": IsoZ("last_message_at"),
    "created_at_iso": IsoZ("created_at"),
    "contact__last_seen_at_iso": IsoZ("contact__last_seen_at"),
}


def _blocks(blocker: str, blocked: str) -> Exists:
    return Exists(Block.objects.filter(blocker_id=OuterRef(blocker), blocked_id=OuterRef(blocked)))


def _contact_rows_query(*, owner_id: str, contact_pk: int | None = None):
    rows = Contact.objects.filter(owner_id=owner_id)
    if contact_pk is not None:
        rows = rows.filter(pk=contact_pk)
    return rows.order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-id").values(
        *CONTACT_ROW_FIELDS,
        **CONTACT_ROW_TIMESTAMPS,
        is_blocked=_blocks("owner_id", "contact_id"),
        blocks_owner=_blocks("contact_id", "owner_id"),
    )


# GET /contacts is a hot read: its query is compiled once (kernel.queries).
_all_rows = CompiledValues(_contact_rows_query, owner_id="\x00owner")
_one_row = CompiledValues(_contact_rows_query, owner_id="\x00owner", contact_pk=-(2**62))


def contact_rows(*, owner_id: str, contact_pk: int | None = None) -> list[dict]:
    """The owner's contacts (or the one row `contact_pk`) as plain rows, most recent
    conversation first, never-messaged last: one query, no model instances. Each row also says
    whether the owner blocks the contact (`is_blocked`) and whether the contact blocks the owner
    (`blocks_owner`: their presence is then hidden from the owner)."""
    if contact_pk is None:
        return _all_rows.rows(owner_id=owner_id)
    return _one_row.rows(owner_id=owner_id, contact_pk=contact_pk)


async def acontact_rows(*, owner_id: str) -> list[dict]:
    """All the owner's `contact_rows` on the event loop (PostgreSQL, kernel.asyncdb); raises
    kernel.queries.NotCompiled until `contact_rows` has compiled the query in this process."""
    return await _all_rows.arows(owner_id=owner_id)


def nicknames_of(*, owner_id: str, clerk_ids) -> dict[str, str | None]:
    rows = Contact.objects.filter(owner_id=owner_id, contact_id__in=list(clerk_ids))
    return dict(rows.values_list("contact_id", "nickname"))
