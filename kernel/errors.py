class ServiceError(Exception):
    """A request the services refuse, with a message fit to show the user.

    Transports turn it into their own error shape: a 4xx `{"error": ...}` on REST,
    `message_failed` / an `error` event on Socket.IO.
    """

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid", details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


class NotFoundError(ServiceError):
    status_code = 404

    def __init__(self, message: str = "Not found", **kwargs):
        kwargs.setdefault("code", "not_found")
        super().__init__(message, **kwargs)


class ForbiddenError(ServiceError):
    """The caller may see the thing but not do this to it (e.g. edit someone else's message)."""

    status_code = 403

    def __init__(self, message: str, **kwargs):
        kwargs.setdefault("code", "forbidden")
        super().__init__(message, **kwargs)
