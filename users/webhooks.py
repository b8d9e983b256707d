"""`POST /webhooks/clerk`: Clerk's user events, signed by Svix, applied to local profiles.

Not a DRF view: the caller is Clerk, proven by the Svix signature over the raw body, not a
user; so no session-token identity and no CSRF token.
"""

import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from svix.webhooks import Webhook, WebhookVerificationError

from kernel.errors import ServiceError
from users import services

logger = logging.getLogger(__name__)

SIGNATURE_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
def clerk_webhook(request):
    if request.method != "POST":
        return _error("Method not allowed", 405)
    if not settings.CLERK_WEBHOOK_SECRET:
        return _error("Clerk webhooks are not configured (CLERK_WEBHOOK_SECRET)", 503)
    try:
        webhook = Webhook(settings.CLERK_WEBHOOK_SECRET)
    except Exception:
        logger.error("CLERK_WEBHOOK_SECRET is not a valid Svix secret (whsec_...)")
        return _error("Clerk webhooks are misconfigured", 503)

    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    try:
        # Checks the signature over the raw body and that svix-timestamp is within 5 minutes.
        webhook.verify(request.body, headers)
    except (WebhookVerificationError, ValueError) as exc:
        logger.warning("Clerk webhook refused: %s (svix-id %r)", exc, headers["svix-id"][:100])
        return _error(f"Invalid webhook signature: {exc}", 400)

    try:
        event = json.loads(request.body)
        event_type = event["type"]
        data = event["data"]
        if not isinstance(event_type, str):
            raise TypeError("type")
    except (ValueError, KeyError, TypeError):
        return _error("Malformed webhook payload", 400)

    try:
        outcome = services.clerk_webhook_apply(svix_id=headers["svix-id"], event_type=event_type, data=data)
    except ServiceError as exc:
        logger.warning("Clerk webhook %s not applied: %s", event_type, exc.message)
        return _error(exc.message, exc.status_code)
    logger.info("Clerk webhook %s %s", event_type, outcome)
    return JsonResponse({"success": True, "type": event_type, "result": outcome})
