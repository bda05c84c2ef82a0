"""A redis-server of the benchmark's own, so a benchmark never flushes a Redis it did not start.

Without `--redis-url` the benchmarks start one on a free loopback port (no persistence, in a temporary
directory) and stop it by its PID at the end. With `--redis-url` they use that server, whose db they FLUSH.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

HOST = "127.0.0.1"
REDIS_URL_HELP = (
    "use this Redis and FLUSH its db (default: start a private redis-server on a free port and stop it at the end)"
)


class NoRedisServer(RuntimeError):
    """redis-server is not installed, or did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def private_redis() -> Iterator[tuple[str, int]]:
    """(url, pid) of a fresh redis-server on loopback; killed by that PID when the block ends."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise NoRedisServer("redis-server is not installed: install it or pass --redis-url")
    port = free_port()
    workdir = tempfile.TemporaryDirectory(prefix="bench-redis-")
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", workdir.name]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, process)
        yield f"redis://{HOST}:{port}/0", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        workdir.cleanup()


@contextmanager
def redis_for(url: str | None) -> Iterator[tuple[str, int | None]]:
    """The given Redis (its PID unknown), or a private one."""
    if url is not None:
        yield url, None
        return
    with private_redis() as (private_url, pid):
        yield private_url, pid


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    client = Redis(host=HOST, port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise NoRedisServer(f"redis-server exited with {process.returncode}")
            try:
                if client.ping():
                    return
            except RedisConnectionError:
                time.sleep(0.05)
        raise NoRedisServer("redis-server did not answer within 10 s")
    finally:
        client.close()
