"""Sending messages: the outbox (every message is stored first) and how it goes out (taper.messaging.delivery)."""
