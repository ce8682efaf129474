"""Long work started from a page (a cohort import, a batch of invitation letters) runs in a thread of the web
process, so the page can show its progress. The work records its own progress and failure in the database;
it commits as a job does (it is an edge) and must be safe to start again on the same record (a restart of the
server stops a thread halfway: the page then offers to carry on)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import current_app

from taper.extensions import db

THREAD_PREFIX = "taper-background:"  # every such thread's name starts so (tests wait for them by name)


def start(work: Callable[[], None], *, name: str) -> threading.Thread:
    """`work()` in a daemon thread inside an application context of its own; the thread (tests join it)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:
                db.session.rollback()
                app.logger.exception("background work %s failed", name)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=f"{THREAD_PREFIX} {name}", daemon=True)
    thread.start()
    return thread
