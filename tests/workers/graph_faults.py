"""A Graph API stub that can misbehave, run as its own process (uvicorn) by the process tests.

POST .../messages  -> accepted (recorded in /sent) unless a fault is set for the recipient or for everyone
POST /faults       -> {"to": "<wa_id>" | "*", "code": 131056, "status": 400, "seconds": 4.0, "delay_ms": 0}
                      the fault answers every send to `to` for `seconds` from now (code 0: none, only the delay)
GET  /sent         -> {"sent": [{"to", "text", "t"}], "refused": n}    (t: time.time() at acceptance)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import orjson

from tests.workers.asgi import answer, lifespan, read_body

Scope = dict[str, Any]


class FaultyGraph:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refused = 0
        self.reads: list[str] = []
        self.faults: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        status, reply = await self._route(scope["method"], scope["path"], await read_body(receive))
        await answer(send, status, [(b"content-type", b"application/json")], orjson.dumps(reply))

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "POST" and path.endswith("/messages"):
            return await self._message(orjson.loads(body))
        if method == "POST" and path == "/faults":
            fault = orjson.loads(body)
            fault["until"] = time.time() + float(fault.get("seconds", 3600))
            self.faults[fault["to"]] = fault
            return 200, {"ok": True}
        if method == "GET" and path == "/sent":
            return 200, {"sent": self.sent, "refused": self.refused, "reads": self.reads}
        return 404, {"error": {"code": 100, "message": "unknown path"}}

    async def _message(self, payload: dict[str, Any]) -> tuple[int, Any]:
        if payload.get("status") == "read":  # a read receipt (and typing indicator), not a message
            self.reads.append(str(payload.get("message_id")))
            return 200, {"success": True}
        to = str(payload.get("to", ""))
        fault = self.faults.get(to) or self.faults.get("*")
        if fault and fault["until"] > time.time():
            if fault.get("delay_ms"):
                await asyncio.sleep(fault["delay_ms"] / 1000)
            if fault.get("code"):
                self.refused += 1
                error = {"message": "stub fault", "type": "OAuthException", "code": fault["code"]}
                return int(fault.get("status", 400)), {"error": error}
        text = (payload.get("text") or {}).get("body") or payload.get("type", "")
        self.sent.append({"to": to, "text": text, "t": time.time(), "payload": payload})
        return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.stub.{next(self._ids)}"}]}


app = FaultyGraph()
