"""The app served by uvicorn in a thread of the test process, on a loopback port: for tests that need a real HTTP
server (a browser, schemathesis) but share the test's objects (its store, its settings)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from tests.conftest import free_port


@contextmanager
def served(app: Any, *, start_s: float = 30, stop_s: float = 60, **config: Any) -> Iterator[str]:
    """Yields the base URL once uvicorn is serving (lifespan run); stops it as on SIGTERM (the workers drain).
    `config` goes to uvicorn.Config (log_level, log_config, access_log, lifespan...)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(stop_s)
