"""The service's OpenAPI 3.1 document and its docs pages, served only when DOCS_ENABLED says so.

FastAPI's document left the webhook envelope's `$ref`s dangling and its pages loaded Swagger UI and ReDoc from a
CDN. Here the envelope's schemas join `components`, and the pages use the assets packaged in fastapi-offline, so
`/docs` and `/redoc` work on a machine without internet and no request leaves it.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi, validation_error_definition, validation_error_response_definition
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from app.api.webhook_docs import COMPONENTS
from app.config import Settings

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/static-offline-docs"
NO_VALIDATION_ERROR = "x-no-validation-error"
# The pages may load nothing from elsewhere: what an asset would fetch from a CDN (ReDoc's "Built with Redocly"
# logo) is refused by the browser before any request is made.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
HIDE_REDOCLY_BADGE = "a[href*='redocly.com'] { display: none; }"
DESCRIPTION = (
    "The VimbisoPay WhatsApp chat server: Meta's WhatsApp Cloud API posts to `/webhook`, credex-core posts to "
    "`/notify`, operators use `/admin` (bearer ADMIN_TOKEN), `/health`, `/ready` and `/metrics`."
)


def install(app: FastAPI, settings: Settings) -> None:
    """Replace `app.openapi` with the complete document; serve it and the pages when `settings.serves_docs`.

    Build the app with `openapi_url=None, docs_url=None, redoc_url=None`: these routes take their place.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if settings.serves_docs:
        _serve(app)


def build_document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    # Routes that describe their own 422 keep FastAPI from adding these two, which their 422 refers to.
    schemas.setdefault("ValidationError", validation_error_definition)
    schemas.setdefault("HTTPValidationError", validation_error_response_definition)
    for name, schema in COMPONENTS.items():
        if name in schemas and schemas[name] != schema:
            raise RuntimeError(f"OpenAPI component {name} is defined twice, differently")
        schemas[name] = schema
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _tidy(operation)
    return document


def _tidy(operation: dict[str, Any]) -> None:
    """`openapi_extra` parameters replace the derived ones of the same name (FastAPI would list both); an
    operation marked `x-no-validation-error` loses the 422 FastAPI adds but the route can never answer."""
    if parameters := operation.get("parameters"):
        last = {(p["in"], p["name"].lower()): p for p in parameters}
        operation["parameters"] = list(last.values())
    if operation.pop(NO_VALIDATION_ERROR, False):
        operation.get("responses", {}).pop("422", None)


def _serve(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="offline-docs")

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(
            get_swagger_ui_html(
                openapi_url=f"{root}{OPENAPI_URL}",
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
                swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            )
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        html = bytes(page.body).decode().replace("</style>", f"  {HIDE_REDOCLY_BADGE}\n    </style>", 1)
        return _offline(HTMLResponse(html))


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CSP
    return page
