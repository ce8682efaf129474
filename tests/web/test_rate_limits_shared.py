"""Issue 15, item 3: in production the sign-in rate limits are counted in Redis, so that every gunicorn worker
counts together. Two applications stand for two workers: with Redis they share one count; with memory:// (the
control, proving the test can tell) each counts alone.

Needs the Redis server at TAPER_CI_REDIS_URL (default redis://127.0.0.1:6379/15): skipped with a message when
none answers, but failed instead under CI=true when TAPER_CI_REDIS_URL is set. The counters' keys start with a
prefix unique to this run and are deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
import redis
from flask import Flask

from taper import create_app
from taper.extensions import db
from taper.web.rate_limits import KEY_PREFIX, PER_CLIENT
from tests.conftest import TEMPLATE_CACHE, RequestIsolatedClient, submit

REDIS_URL = os.environ.get("TAPER_CI_REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_server() -> Iterator[redis.Redis]:
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        server.ping()
    except redis.RedisError as error:
        message = f"no Redis server answers at {REDIS_URL} ({error}): the shared rate-limit test needs one"
        if os.environ.get("CI") == "true" and os.environ.get("TAPER_CI_REDIS_URL"):
            pytest.fail(message + " (required under CI=true when TAPER_CI_REDIS_URL is set)")
        pytest.skip(message)
    yield server
    server.close()


@contextmanager
def _workers(app: Flask, storage_url: str, prefix: str) -> Iterator[tuple[Flask, Flask]]:
    """Two applications on the test's database, counting in `storage_url`."""
    settings = replace(app.extensions["taper.settings"], rate_limit_storage_url=storage_url)
    workers = (create_app(settings), create_app(settings))
    for worker in workers:
        worker.test_client_class = RequestIsolatedClient
        worker.jinja_env.bytecode_cache = TEMPLATE_CACHE
        worker.config[KEY_PREFIX] = prefix
    try:
        yield workers
    finally:
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()


def _attempts_until_refused(workers: tuple[Flask, Flask], limit: int) -> int | None:
    """Sign-ins from one client address, taking turns between the workers (each to a different address, so
    only the per-client limit applies): the number of the first refused, or None."""
    clients = [worker.test_client() for worker in workers]
    for number in range(1, limit + 2):
        answer = submit(clients[number % 2], "/login", {"email": f"guess{number}@example.nhs.uk",
                                                        "password": "not the password"},
                        environ_base={"REMOTE_ADDR": "192.0.2.50"})
        if answer.status_code == 429:
            return number
        assert answer.status_code == 200
    return None


def test_two_workers_share_the_count_in_redis_and_not_in_memory(app: Flask, redis_server: redis.Redis) -> None:
    prefix = f"taper-test-{uuid.uuid4().hex}"
    try:
        with _workers(app, REDIS_URL, prefix) as workers:
            assert _attempts_until_refused(workers, PER_CLIENT.amount) == PER_CLIENT.amount + 1
        assert list(redis_server.scan_iter(f"*{prefix}*"))  # the counts were kept in Redis
    finally:
        for key in redis_server.scan_iter(f"*{prefix}*"):
            redis_server.delete(key)
    with _workers(app, "memory://", prefix) as workers:
        assert _attempts_until_refused(workers, PER_CLIENT.amount) is None  # each worker counted only its half


def test_a_rate_limit_store_that_does_not_answer_refuses_sign_in_with_taper_s_page(app: Flask) -> None:
    """Nothing listens on port 9 of this machine: sign-in is refused (503, within the store's timeout), never a
    bare 500, and never let through uncounted."""
    with _workers(app, "redis://127.0.0.1:9/0", "taper-test-no-store") as (worker, _):
        answer = submit(worker.test_client(), "/login", {"email": "someone@example.nhs.uk", "password": "x"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "120"
    assert "Taper cannot reach the service that counts sign-in attempts" in answer.get_data(as_text=True)
