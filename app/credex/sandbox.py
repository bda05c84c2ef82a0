"""A credex-core sandbox: the contract's endpoints over an in-memory ledger, served as its own FastAPI app.

Like the real service it requires `x-client-api-key` on every call and a bearer JWT on all but login and
onboardMember (opaque random tokens it remembers; 401 otherwise), and it sends a refreshed token in the
`Authorization` response header once a token is older than `refresh_after`. Run it for local development with
`uvicorn --factory app.credex.sandbox:create_sandbox_app --port 3000` and CREDEX_API_URL=http://127.0.0.1:3000.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI, Request, Response
from pydantic import ValidationError

from app.credex import jsonio
from app.credex import models as m
from app.credex.models import CredexRequest
from app.credex.sandbox_api_credex import (
    accept,
    accept_bulk,
    cancel,
    create,
    create_recurring,
    decline,
    get_credex,
    get_ledger,
)
from app.credex.sandbox_api_members import (
    account_by_handle,
    authorize,
    create_account,
    dashboard,
    get_balances,
    login,
    member_by_handle,
    onboard_member,
    unauthorize,
    update_send_offers_to,
)
from app.credex.sandbox_ledger import Ledger, Member
from app.credex.sandbox_notify import Notifier
from app.credex.sandbox_seed import DEMO_SEED, SandboxSeed, seed_ledger
from app.credex.sandbox_support import Clock, IdFactory, SandboxError, TokenFactory, utc_now
from app.credex.sandbox_views import Handler, envelope, error_envelope
from app.logs import get_logger

log = get_logger(__name__)

_FIELD_CODES = {
    "phone": "INVALID_PHONE",
    "memberHandle": "INVALID_HANDLE",
    "accountHandle": "INVALID_HANDLE",
    "memberHandleToBeAuthorized": "INVALID_HANDLE",
    "Denomination": "INVALID_DENOMINATION",
    "defaultDenom": "INVALID_DENOMINATION",
    "denomination": "INVALID_DENOMINATION",
    "DCOdenom": "INVALID_DENOMINATION",
    "InitialAmount": "INVALID_AMOUNT",
    "amount": "INVALID_AMOUNT",
    "accountID": "INVALID_ACCOUNT_ID",
    "numRows": "INVALID_PAGINATION",
    "startRow": "INVALID_PAGINATION",
    "credexID": "INVALID_CREDEX_ID",
    "credexIDs": "INVALID_CREDEX_ID",
}


@dataclass(frozen=True)
class Route:
    """One endpoint. `resource` names the request field whose uuid error answers carry as action.id; the credex
    family's errors follow its stricter contract (request errors are VALIDATION_ERROR, 500's actor is 'system').
    """

    path: str
    model: type[CredexRequest]
    handler: Handler
    protected: bool = True
    resource: str | None = None
    credex_family: bool = False


ROUTES: tuple[Route, ...] = (
    Route("/login", m.PhoneRequest, login, protected=False),
    Route("/onboardMember", m.OnboardMemberRequest, onboard_member, protected=False),
    Route("/getMemberDashboardByPhone", m.PhoneRequest, dashboard),
    Route("/getMemberByHandle", m.MemberByHandleRequest, member_by_handle),
    Route("/getAccountByHandle", m.AccountByHandleRequest, account_by_handle),
    Route("/getBalances", m.AccountIDRequest, get_balances),
    Route("/createCredex", m.CreateCredexRequest, create, resource="issuer_account_id", credex_family=True),
    Route("/acceptCredex", m.CredexIDRequest, accept, resource="credex_id", credex_family=True),
    Route("/declineCredex", m.CredexIDRequest, decline, resource="credex_id", credex_family=True),
    Route("/cancelCredex", m.CredexIDRequest, cancel, resource="credex_id", credex_family=True),
    Route("/acceptCredexBulk", m.AcceptCredexBulkRequest, accept_bulk, credex_family=True),
    Route("/getCredex", m.GetCredexRequest, get_credex, resource="credex_id", credex_family=True),
    Route("/getLedger", m.GetLedgerRequest, get_ledger, resource="account_id"),
    Route(
        "/createRecurring", m.CreateRecurringRequest, create_recurring, resource="source_account_id", credex_family=True
    ),
    Route("/authorizeForAccount", m.AuthorizeForAccountRequest, authorize, resource="account_id"),
    Route("/unauthorizeForAccount", m.UnauthorizeForAccountRequest, unauthorize, resource="account_id"),
    Route("/updateSendOffersTo", m.UpdateSendOffersToRequest, update_send_offers_to, resource="account_id"),
    Route("/createAccount", m.CreateAccountRequest, create_account),
)
"""Every credex-core endpoint the bot uses; login and onboardMember are the only ones without a bearer token."""


class Sandbox:
    """The ledger plus what tests look at: per-path request counts and one-shot injected failures."""

    def __init__(self, ledger: Ledger, api_key: str | None) -> None:
        self.ledger = ledger
        self.api_key = api_key
        self.requests: Counter[str] = Counter()
        self._failures: dict[str, list[int]] = {}
        self.notifier: Notifier | None = None
        """Tells the bot about new offers (`POST /notify`), as credex-core does; set at wiring time."""

    def inject_failure(self, path: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls to `path` answer `status` without touching the ledger."""
        self._failures.setdefault(path, []).extend([status] * times)

    def _take_failure(self, path: str) -> int | None:
        queued = self._failures.get(path)
        return queued.pop(0) if queued else None


def _bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


def _validate(route: Route, raw: bytes) -> CredexRequest:
    try:
        payload = jsonio.loads(raw or b"null")
    except ValueError as exc:
        raise SandboxError(400, "Request body is not valid JSON", "INVALID_JSON", malformed=True) from exc
    if not isinstance(payload, dict):
        raise SandboxError(400, "Request body must be a JSON object", "INVALID_JSON", malformed=True)
    try:
        return route.model.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        missing = err["type"] == "missing"
        code = "MISSING_PARAMS" if missing else _FIELD_CODES.get(str(err["loc"][0]) if err["loc"] else "", "")
        message = f"Missing required field {field}" if missing else f"Invalid {field}: {err['msg']}"
        raise SandboxError(400, message, code or "INVALID_PARAMS", field=field, malformed=True) from exc


def _error(route: Route, err: SandboxError, member: Member | None) -> tuple[int, str, str]:
    """Status, code and actor of an error answer, as the route's contract describes them."""
    code = "VALIDATION_ERROR" if route.credex_family and err.malformed else err.code
    if member is None or (route.credex_family and err.status >= 500):
        return err.status, code, "system"
    return err.status, code, member.member_id


async def _dispatch(sandbox: Sandbox, route: Route, request: Request) -> Response:
    raw = await request.body()  # the only await: from here to the response the ledger is ours alone
    sandbox.requests[route.path] += 1
    ledger = sandbox.ledger
    member: Member | None = None
    refreshed: str | None = None
    resource: str | None = None
    try:
        key = request.headers.get("x-client-api-key")
        if not key or (sandbox.api_key is not None and key != sandbox.api_key):
            raise SandboxError(401, "Invalid or missing client API key", "UNAUTHORIZED")
        if route.protected:
            member, refreshed = ledger.authenticate(_bearer(request.headers.get("authorization")))
        if (injected := sandbox._take_failure(route.path)) is not None:
            raise SandboxError(injected, "Internal server error", "INTERNAL_ERROR")
        req = _validate(route, raw)
        resource = getattr(req, route.resource) if route.resource else None
        reply = route.handler(ledger, member, req)
        status = reply.status
        actor = reply.actor or (member.member_id if member else "system")
        body = envelope(
            ledger, reply.message, reply.action_type, reply.action_id, actor, reply.details, reply.dashboard
        )
        if reply.action_type == "CREDEX_CREATED" and reply.action_id and sandbox.notifier is not None:
            sandbox.notifier.offer_created(ledger, reply.action_id)
    except SandboxError as err:
        status, code, actor = _error(route, err, member)
        body = error_envelope(ledger, err, code, actor, resource)
    except Exception:
        log.exception("sandbox.handler_failed", path=route.path)
        internal = SandboxError(500, "Internal server error", "INTERNAL_ERROR")
        status, code, actor = _error(route, internal, member)
        body = error_envelope(ledger, internal, code, actor, resource)
    headers = {"authorization": f"Bearer {refreshed}"} if refreshed else None
    return Response(jsonio.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _mount(app: FastAPI, sandbox: Sandbox, route: Route) -> None:
    async def endpoint(request: Request) -> Response:
        return await _dispatch(sandbox, route, request)

    app.add_api_route(route.path, endpoint, methods=["POST"], name=route.path.lstrip("/"))


def create_sandbox_app(
    *,
    clock: Clock = utc_now,
    ids: IdFactory | None = None,
    tokens: TokenFactory | None = None,
    api_key: str | None = None,
    seed: SandboxSeed | None = DEMO_SEED,
    token_ttl: timedelta = timedelta(minutes=30),
    refresh_after: timedelta = timedelta(minutes=10),
) -> FastAPI:
    """A fresh sandbox. `api_key=None` accepts any non-empty key; `seed=None` starts empty (no demo members)."""
    ledger = Ledger(clock=clock, ids=ids, tokens=tokens, token_ttl=token_ttl, refresh_after=refresh_after)
    if seed is not None:
        seed_ledger(ledger, seed)
    sandbox = Sandbox(ledger, api_key)
    app = FastAPI(title="credex-core sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = sandbox
    for route in ROUTES:
        _mount(app, sandbox, route)
    return app


def sandbox_of(app: FastAPI) -> Sandbox:
    """The Sandbox behind an app from create_sandbox_app (ledger, request counts, failure injection)."""
    sandbox = app.state.sandbox
    if not isinstance(sandbox, Sandbox):
        raise TypeError("not a credex sandbox app")
    return sandbox
