"""405 answers that list every method of the path, not only those of the first route matched.

Starlette answers a method a path does not take from the first route whose path matched, so `OPTIONS /webhook`
said `Allow: GET` although POST is served there too (found by the fuzz test; RFC 9110 §15.5.6 wants them all).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own handler; a 405's `Allow` is every method some route fully matches on this path (routes are
    asked, not read: included routers keep their routes to themselves)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allowed = [
            method
            for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.routes)
        ]
        exc = HTTPException(405, exc.detail, {**(exc.headers or {}), "Allow": ", ".join(allowed)})
    return await http_exception_handler(request, exc)
