"""The reference for the webhook benchmark: a minimal echo bot on pywa's async client.

    BENCH_APP_SECRET=... BENCH_STUB_URL=http://127.0.0.1:9100 [BENCH_PYWA_MODE=inline] \\
        .venv/bin/python -m uvicorn bench.pywa_app:app --workers 1 --loop uvloop --http httptools

pywa checks the signature (validate_updates=True with app_secret), parses the update, runs the handler and replies
with one text through its httpx.AsyncClient. There is no persistent state; its dedupe is an in-memory dict of body
hashes. pywa has no base-URL option (GraphAPI sets `session.base_url` to https://graph.facebook.com/v<version>), so
the bench passes its own httpx client and points that client at the stub after pywa configured it, keeping the path.

Two modes:
- default: pywa's FastAPI integration (`server=app`). Its POST route checks the signature, queues the handler as a
  FastAPI background task and answers 200 at once: the reply is sent after the response, without backpressure.
- BENCH_PYWA_MODE=inline: pywa's documented custom-server path (`webhook_update_validator`, then
  `webhook_update_handler` awaited in our own route), so the 200 comes after the reply, as in our service.

BENCH_PYWA_TYPING=1 adds `msg.indicate_typing()` before the reply: pywa's mark-as-read with the typing indicator,
the same Cloud API request our service sends for every message (WHATSAPP_MARK_READ, on by default), so that both
make the same two calls per message. The inbox bench names this mode `pywa-typing`: the like-for-like reference.
"""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

try:
    from pywa_async import filters
    from pywa_async.client import WhatsApp
    from pywa_async.types import Message
except ImportError as exc:  # pragma: no cover - the bench checks this before it starts the server
    raise SystemExit('pywa is not installed: .venv/bin/pip install "pywa==4.5.*"') from exc

PHONE_NUMBER_ID = "1122334455667"
INLINE = os.environ.get("BENCH_PYWA_MODE") == "inline"
TYPING = os.environ.get("BENCH_PYWA_TYPING") == "1"

app = FastAPI()
session = httpx.AsyncClient()  # what pywa builds itself when no session is given
wa = WhatsApp(
    phone_id=PHONE_NUMBER_ID,
    token=os.environ.get("BENCH_STUB_TOKEN", "bench-token"),
    session=session,
    server=None if INLINE else app,
    webhook_endpoint="/webhook",
    verify_token=os.environ.get("BENCH_VERIFY_TOKEN", "bench-verify-token"),
    app_secret=os.environ["BENCH_APP_SECRET"],
    validate_updates=True,
)
stub = httpx.URL(os.environ["BENCH_STUB_URL"])
session.base_url = session.base_url.copy_with(scheme=stub.scheme, host=stub.host, port=stub.port)


@wa.on_message(filters.text)  # type: ignore[untyped-decorator]  # pywa_async is not followed (pyproject)
async def echo(client: WhatsApp, msg: Message) -> None:
    if TYPING:
        await msg.indicate_typing()
    await msg.reply_text(f"echo: {msg.text}")


if INLINE:

    @app.post("/webhook")
    async def webhook(request: Request) -> PlainTextResponse:
        body = await request.body()
        error = await wa.webhook_update_validator(body, request.headers.get("X-Hub-Signature-256"))
        if error:
            return PlainTextResponse(error[0], status_code=error[1])
        text, status = await wa.webhook_update_handler(body)
        return PlainTextResponse(text, status_code=status)


@app.get("/ready")
async def ready() -> dict[str, str]:
    return {
        "status": "ready",
        "graph": str(session.base_url),
        "mode": "inline" if INLINE else "integration",
        "typing": str(TYPING),
    }
