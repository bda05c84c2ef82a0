"""Standard security headers on every answer, as a plain ASGI wrapper (no per-request task or body copy)."""

from __future__ import annotations

from typing import Any

HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
JSON_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Adds HEADERS where a route did not set them, and a deny-all CSP on JSON answers (pages set their own)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in HEADERS if name not in present]
                json = any(
                    name.lower() == b"content-type" and value.startswith(b"application/json") for name, value in headers
                )
                if json and JSON_CSP[0] not in present:
                    headers.append(JSON_CSP)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
