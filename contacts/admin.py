"""Moderators' view of contact rows. Adding and renaming go through contacts.services, as the API does."""

from django import forms
from django.contrib import admin

from contacts import services
from contacts.models import Contact
from kernel.errors import ServiceError


class ContactAddForm(forms.ModelForm):
    """Adds the row with `contact_add` while validating, so the service's refusals (yourself, a
    duplicate, an unknown or deleted user) show as form errors. The admin's add view runs in one
    transaction, so a later failure undoes the row too."""

    class Meta:
        model = Contact
        fields = ("owner", "contact", "nickname")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.instance = services.contact_add(
                owner_id=cleaned["owner"].pk, contact_clerk_id=cleaned["contact"].pk, nickname=cleaned.get("nickname")
            )
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "contact", "nickname", "unread_count", "last_message_at")
    search_fields = ("owner__clerk_id", "contact__clerk_id", "nickname")
    list_select_related = ("owner", "contact")
    raw_id_fields = ("owner", "contact")
    # Maintained by chat.services; an edit here would desynchronise them from the messages.
    readonly_fields = ("last_message_preview", "last_message_at", "unread_count", "created_at")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ContactAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # A row's two users never change; only the nickname is edited.
        return self.readonly_fields + (("owner", "contact") if obj is not None else ())

    def save_model(self, request, obj, form, change):
        if change:
            services.contact_update(owner_id=obj.owner_id, contact_id=obj.pk, nickname=obj.nickname)
        # An added row was written by ContactAddForm through contact_add.
