"""A fault-injecting TCP proxy in front of a credex-core (the sandbox in its own process), on loopback.

A raw HTTP/1.1 server rather than an ASGI app, so that it can do what a network does and an ASGI app cannot:
reset the connection after the write reached credex-core (RST, SO_LINGER 0). Faults are armed at run time:

    POST /proxy/fault {"path": "/createCredex", "mode": "500_after", "times": 1, "seconds": 3}
    GET  /proxy/count -> {"/createCredex": n, ...}   requests that reached credex-core through here

modes: `500_before` (answer 500, nothing forwarded), `500_after` (forwarded, then 500 instead of the answer),
`reset_after` (forwarded, then the connection reset), `timeout_after` (forwarded, the answer held `seconds`,
longer than the client waits), `hold` (forwarded, the real answer after `seconds`).

Run: FAULT_UPSTREAM=http://127.0.0.1:P python -m tests.workers.credex_faults PORT
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
from collections import Counter
from dataclasses import dataclass

import httpx
import orjson

MODES = frozenset({"500_before", "500_after", "reset_after", "timeout_after", "hold"})
HOP = frozenset({b"host", b"content-length", b"connection", b"transfer-encoding", b"keep-alive"})


@dataclass
class Fault:
    mode: str
    times: int
    seconds: float


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.client = httpx.AsyncClient(base_url=upstream, timeout=30)
        self.counts: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not reader.at_eof():
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, target, headers = _parse(head)
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                if not await self._one(method, target, headers, body, writer):
                    return
        finally:
            writer.close()

    async def _one(
        self, method: str, target: str, headers: dict[bytes, bytes], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        """Answers one request; False when the connection was reset."""
        path = target.partition("?")[0]
        if path.startswith("/proxy/"):
            await _reply(writer, *self._control(method, path, body))
            return True
        fault = self.faults.get(path)
        if fault is not None and fault.times > 0:
            fault.times -= 1
        else:
            fault = None
        if fault is not None and fault.mode == "500_before":
            await _reply(writer, 500, b'{"message":"injected before the write"}')
            return True
        forward = [(k.decode(), v.decode()) for k, v in headers.items() if k not in HOP]
        upstream = await self.client.request(method, target, content=body, headers=forward)
        self.counts[path] += 1
        if fault is None:
            await _reply(writer, upstream.status_code, upstream.content, upstream.headers)
        elif fault.mode == "500_after":
            await _reply(writer, 500, b'{"message":"injected after the write"}')
        elif fault.mode == "reset_after":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        else:  # timeout_after, hold: the answer comes late (after the client gave up, for timeout_after)
            await asyncio.sleep(fault.seconds)
            await _reply(writer, upstream.status_code, upstream.content, upstream.headers)
        return True

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path == "/proxy/count":
            return 200, orjson.dumps(dict(self.counts))
        if path == "/proxy/fault" and method == "POST":
            doc = orjson.loads(body)
            if doc.get("mode") not in MODES:
                return 422, b'{"message":"unknown mode"}'
            self.faults[str(doc["path"])] = Fault(doc["mode"], int(doc.get("times", 1)), float(doc.get("seconds", 3)))
            return 200, b'{"armed":true}'
        return 404, b'{"message":"no such proxy route"}'


def _parse(head: bytes) -> tuple[str, str, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    method, target, _ = lines[0].decode("latin-1").split(" ", 2)
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        if b":" in line:
            key, _, value = line.partition(b":")
            headers[key.strip().lower()] = value.strip()
    return method, target, headers


async def _reply(writer: asyncio.StreamWriter, status: int, body: bytes, headers: httpx.Headers | None = None) -> None:
    """Every upstream header is passed on (credex-core refreshes the token in `Authorization`)."""
    kept = [(k, v) for k, v in (headers or {"content-type": "application/json"}).items() if k.encode() not in HOP]
    lines = "".join(f"{k}: {v}\r\n" for k, v in kept)
    head = f"HTTP/1.1 {status} X\r\n{lines}content-length: {len(body)}\r\n\r\n"
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


async def main(port: int) -> None:
    proxy = FaultProxy(os.environ["FAULT_UPSTREAM"])
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
