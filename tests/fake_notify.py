"""A stand-in for GOV.UK Notify on 127.0.0.1, for tests: it checks each request's JWT the way Notify does
(HS256, signed with the key's secret, `iss` the service id, issued within 30 seconds), records what was sent,
answers like the v2 API, and can be told to fail the next requests. Tests never reach the internet."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

SERVICE_ID = "4f6b2f4e-7c1d-4f3e-9a51-2d2b8d1c0a11"
SECRET = "9b1f5a8e-3c2d-4e7f-8a6b-1c0d2e3f4a5b"
API_KEY = f"taper_test-{SERVICE_ID}-{SECRET}"
TEMPLATES = {"sms": "11111111-1111-4111-8111-111111111111", "email": "22222222-2222-4222-8222-222222222222",
             "letter": "33333333-3333-4333-8333-333333333333"}


@dataclass
class FakeNotify:
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)  # every accepted notification, with its kind
    failures: list[tuple[int, str]] = field(default_factory=list)  # (status, message) for the next requests
    delay_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0  # sends received and not yet answered

    def references(self) -> list[str]:
        with self.lock:
            return [each["reference"] for each in self.sent]

    def settle(self, timeout_seconds: float = 10) -> None:
        """Wait until every send received has been dealt with, as Notify would have long before Taper's
        ten-minute wait on a message cut short is over (a killed client leaves its request in flight here)."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight == 0:
                    return
            time.sleep(0.01)
        raise TimeoutError("the fake Notify still has sends in flight")


def _handler(fake: FakeNotify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _authorised(self) -> bool:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
            except jwt.PyJWTError as error:
                self._answer(403, {"status_code": 403, "errors": [{"error": "AuthError", "message": str(error)}]})
                return False
            if claims["iss"] != SERVICE_ID or abs(time.time() - claims["iat"]) > 30:
                self._answer(403, {"status_code": 403, "errors": [{"error": "AuthError",
                                                                    "message": "Invalid token"}]})
                return False
            return True

        def do_POST(self) -> None:
            if not self._authorised():
                return
            with fake.lock:
                fake.in_flight += 1
            try:
                self._send()
            finally:
                with fake.lock:
                    fake.in_flight -= 1

        def _send(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(fake.delay_seconds)
            with fake.lock:
                failure = fake.failures.pop(0) if fake.failures else None
            if failure is not None:
                self._answer(failure[0], {"status_code": failure[0], "errors": [
                    {"error": "BadRequestError" if failure[0] < 500 else "Exception", "message": failure[1]}]})
                return
            kind = self.path.rsplit("/", 1)[-1]
            if kind not in TEMPLATES or body.get("template_id") != TEMPLATES[kind]:
                self._answer(400, {"status_code": 400, "errors": [{"error": "BadRequestError",
                                                                    "message": "Template not found"}]})
                return
            notification = {"id": str(uuid.uuid4()), "kind": kind, **body}
            with fake.lock:
                fake.sent.append(notification)
            self._answer(201, {"id": notification["id"], "reference": body.get("reference"),
                               "template": {"id": body["template_id"]}, "content": {}})

        def do_GET(self) -> None:
            if not self._authorised():
                return
            reference = parse_qs(urlsplit(self.path).query).get("reference", [None])[0]
            with fake.lock:
                found = [{"id": each["id"], "reference": each.get("reference"), "status": "delivered"}
                         for each in fake.sent if each.get("reference") == reference]
            self._answer(200, {"notifications": found, "links": {}})

    return Handler


@contextmanager
def fake_notify() -> Iterator[FakeNotify]:
    fake = FakeNotify()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
