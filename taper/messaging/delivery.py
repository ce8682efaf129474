"""How a stored message goes out: one interface, two backends, chosen by TAPER_NOTIFIER.

- `outbox` (the default): a message is "sent" by being stored; people see it in the app's outbox.
- `govuk-notify`: GOV.UK Notify sends text messages, emails and letters, through its official client
  (notifications-python-client), with the message's unique key as Notify's `reference` (docs/clinical-sources.md,
  GOV.UK Notify). That reference also tells whether a send cut short by a crash went out.
"""

from __future__ import annotations

from typing import Protocol

import requests
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from config import Settings
from taper.models import Message

LETTER_ADDRESS_LINES = 7  # Notify letters take address_line_1 to address_line_7, the last being the postcode


class DeliveryFailed(Exception):
    """The message did not go out. `permanent`: trying again will not help (a bad number, a refused key)."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.permanent = permanent


class Delivery(Protocol):
    name: str

    def deliver(self, message: Message) -> str:
        """Send the message; return the provider's id for it ("" when there is none), or raise DeliveryFailed."""

    def already_sent(self, message: Message) -> str | None:
        """The provider's id if this message went out before (a send cut short by a crash), else None."""


class OutboxOnly:
    """Stored is sent: the outbox page is where people read these messages."""

    name = "outbox"

    def deliver(self, message: Message) -> str:
        return ""

    def already_sent(self, message: Message) -> str | None:
        return None


class GovUkNotify:
    name = "govuk-notify"

    def __init__(self, *, api_key: str, base_url: str, template_ids: dict[str, str], timeout: float = 30):
        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=timeout)
        self.template_ids = template_ids

    def deliver(self, message: Message) -> str:
        template_id = self.template_ids[message.channel]
        try:
            if message.channel == "sms":
                response = self.client.send_sms_notification(
                    phone_number=message.to, template_id=template_id, personalisation={"body": message.body},
                    reference=message.key)
            elif message.channel == "email":
                response = self.client.send_email_notification(
                    email_address=message.to, template_id=template_id,
                    personalisation={"subject": message.subject, "body": message.body}, reference=message.key)
            else:
                response = self.client.send_letter_notification(
                    template_id=template_id, personalisation={**_address(message.to), "body": message.body},
                    reference=message.key)
        except APIError as error:
            raise DeliveryFailed(f"GOV.UK Notify answered {_describe(error)}", permanent=_permanent(error)) from None
        except requests.RequestException as error:
            raise DeliveryFailed(f"GOV.UK Notify could not be reached: {error}", permanent=False) from None
        return str(response["id"])

    def already_sent(self, message: Message) -> str | None:
        try:
            found = self.client.get_all_notifications(reference=message.key)["notifications"]
        except (APIError, requests.RequestException) as error:
            raise DeliveryFailed(f"could not ask GOV.UK Notify about an earlier send: {error}",
                                 permanent=False) from None
        return str(found[0]["id"]) if found else None


def delivery_for(settings: Settings) -> Delivery:
    if settings.notifier == "govuk-notify":
        return GovUkNotify(api_key=settings.notify_api_key, base_url=settings.notify_base_url,
                           template_ids=dict(settings.notify_template_ids))
    return OutboxOnly()


def _address(text: str) -> dict[str, str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not 3 <= len(lines) <= LETTER_ADDRESS_LINES:
        raise DeliveryFailed("a letter needs an address of 3 to 7 lines, the last the postcode", permanent=True)
    return {f"address_line_{number}": line for number, line in enumerate(lines, start=1)}


def _describe(error: APIError) -> str:
    """'400: phone_number Not a UK mobile number' from Notify's {"errors": [{"error", "message"}]}."""
    details = error.message
    if isinstance(details, list):
        details = "; ".join(str(each.get("message", each)) if isinstance(each, dict) else str(each)
                            for each in details)
    return f"{error.status_code}: {details}"


def _permanent(error: APIError) -> bool:
    """Notify's 4xx answers (bad request, refused key or number) will not change on a retry; 429 (rate limit)
    and 5xx will."""
    return 400 <= error.status_code < 500 and error.status_code != 429
