"""Errors that services raise for people: an i18n key and its parameters, never a traceback."""


class ServiceError(Exception):
    """A refusal a user should read: `key` names a message in ui/i18n, `params` fill it in."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params


class PermissionDenied(ServiceError):
    """The user's role or regency scope does not allow this action."""


class ValidationFailed(ServiceError):
    """Input broke a rule; `errors` maps a field to a message key (with params)."""

    def __init__(self, key: str = "err.validation", errors: dict | None = None, **params):
        super().__init__(key, **params)
        self.errors = errors or {}


class StaleRecord(ServiceError):
    """Someone else changed the record since it was loaded."""

    def __init__(self):
        super().__init__("err.stale")
