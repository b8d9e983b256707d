"""Writes of the contacts app."""

from django.db import IntegrityError, transaction

from changelog.services import CONTACT_CHANGED, changes_record
from contacts.models import Contact
from kernel.errors import NotFoundError, ServiceError
from users.models import User
from users.selectors import block_exists


def contact_add(*, owner_id: str, contact_clerk_id: str, nickname: str | None = None) -> Contact:
    if contact_clerk_id == owner_id:
        raise ServiceError("You cannot add yourself as a contact", code="self")
    if not User.objects.filter(clerk_id=owner_id).exists():
        raise ServiceError("Create your profile first with POST /users", code="unknown_owner")
    # A user who blocks the owner answers exactly like a deleted one.
    if not User.objects.filter(clerk_id=contact_clerk_id, is_active=True).exists() or block_exists(
        blocker_id=contact_clerk_id, blocked_id=owner_id
    ):
        raise ServiceError("User not found", code="unknown_user")
    try:
        with transaction.atomic():
            contact = Contact.objects.create(owner_id=owner_id, contact_id=contact_clerk_id, nickname=nickname or None)
            _changed(contact, "added")
            return contact
    except IntegrityError as exc:
        raise ServiceError("Contact already exists", code="exists") from exc


def _changed(contact: Contact, change: str) -> None:
    """The owner's change log (GET /sync) learns of a change to their contact list."""
    data = {"change": change, "id": contact.pk, "contactClerkId": contact.contact_id, "nickname": contact.nickname}
    changes_record(changes=[(contact.owner_id, CONTACT_CHANGED, data)])


def _own_contact(owner_id: str, contact_id: int) -> Contact:
    contact = Contact.objects.select_for_update().filter(pk=contact_id, owner_id=owner_id).first()
    if contact is None:
        # Someone else's row answers exactly like a missing one.
        raise NotFoundError("Contact not found")
    return contact


def contact_update(*, owner_id: str, contact_id: int, nickname: str | None) -> Contact:
    with transaction.atomic():
        contact = _own_contact(owner_id, contact_id)
        contact.nickname = nickname or None
        contact.save(update_fields=["nickname"])
        _changed(contact, "updated")
    return contact


def contact_remove(*, owner_id: str, contact_id: int) -> None:
    with transaction.atomic():
        contact = _own_contact(owner_id, contact_id)
        _changed(contact, "removed")
        contact.delete()
