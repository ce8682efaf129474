"""Typed failures of the services. The web layer turns them into HTTP answers in one place."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class for failures a user can be told about."""


class NotFound(ServiceError):
    """No such record, or not one this user may know exists (both answer 404)."""


class PermissionDenied(ServiceError):
    """The user's role may not do this at all."""


class StaleEdit(ServiceError):
    """Someone else saved this record after the user opened it; nothing was saved."""


class InvalidInput(ServiceError):
    """The input breaks a rule; `errors` maps each field name to a message for the user."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
