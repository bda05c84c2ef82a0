"""CredexClient: one typed async method per credex-core endpoint the bot uses.

Every method takes the caller's `CredexAuth` (phone + JWT from the conversation state) and may update its
`token`; the caller persists it. Every write takes an optional `idempotency_key`, sent as `Idempotency-Key`.
See `client_base` for the retry and error policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from app.config import Settings
from app.credex.client_base import CredexAuth, CredexHttp, Endpoint, build_request
from app.credex.errors import CredexBadResponse, CredexInvalidRequest
from app.credex.models import (
    AcceptCredexBulkRequest,
    AcceptCredexBulkResponse,
    AccountByHandleRequest,
    AccountByHandleResponse,
    AccountIDRequest,
    AccountType,
    AuthorizeForAccountRequest,
    AuthorizeForAccountResponse,
    BalancesResponse,
    CreateAccountRequest,
    CreateAccountResponse,
    CreateCredexRequest,
    CreateCredexResponse,
    CreateRecurringRequest,
    CreateRecurringResponse,
    CredexIDRequest,
    CredexStateResponse,
    CredexType,
    Denomination,
    GetCredexRequest,
    GetCredexResponse,
    GetLedgerRequest,
    LedgerResponse,
    LoginResponse,
    MemberByHandleRequest,
    MemberByHandleResponse,
    MemberDashboardResponse,
    OnboardMemberRequest,
    OnboardMemberResponse,
    PhoneRequest,
    UnauthorizeForAccountRequest,
    UnauthorizeForAccountResponse,
    UpdateSendOffersToRequest,
    UpdateSendOffersToResponse,
)

ONBOARD = Endpoint("/onboardMember", write=True, bearer=False)
DASHBOARD = Endpoint("/getMemberDashboardByPhone", write=False)
MEMBER_BY_HANDLE = Endpoint("/getMemberByHandle", write=False)
ACCOUNT_BY_HANDLE = Endpoint("/getAccountByHandle", write=False)
BALANCES = Endpoint("/getBalances", write=False)
GET_CREDEX = Endpoint("/getCredex", write=False)
LEDGER = Endpoint("/getLedger", write=False)
CREATE_CREDEX = Endpoint("/createCredex", write=True)
ACCEPT = Endpoint("/acceptCredex", write=True)
DECLINE = Endpoint("/declineCredex", write=True)
CANCEL = Endpoint("/cancelCredex", write=True)
ACCEPT_BULK = Endpoint("/acceptCredexBulk", write=True)
CREATE_RECURRING = Endpoint("/createRecurring", write=True)
AUTHORIZE = Endpoint("/authorizeForAccount", write=True)
UNAUTHORIZE = Endpoint("/unauthorizeForAccount", write=True)
SEND_OFFERS_TO = Endpoint("/updateSendOffersTo", write=True)
CREATE_ACCOUNT = Endpoint("/createAccount", write=True)


def normalize_handle(handle: str) -> str:
    """People type '@Alice_Shop ': credex handles are lowercase without the '@'."""
    return handle.strip().lstrip("@").lower()


class CredexClient(CredexHttp):
    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> CredexClient:
        if not settings.credex_api_url or settings.credex_client_api_key is None:
            raise ValueError("CREDEX_API_URL and CREDEX_CLIENT_API_KEY are required for the credex client")
        read = settings.credex_timeout_seconds
        kwargs.setdefault("timeout", httpx.Timeout(connect=min(3.0, read), read=read, write=read, pool=5.0))
        return cls(settings.credex_api_url, settings.credex_client_api_key, **kwargs)

    # -- members --------------------------------------------------------------------------------------------
    async def login(self, auth: CredexAuth) -> LoginResponse:
        """Log in with auth.phone; auth.token is set from the response."""
        return await self._login(auth)

    async def onboard_member(
        self,
        auth: CredexAuth,
        *,
        firstname: str,
        lastname: str,
        default_denom: Denomination = Denomination.USD,
        idempotency_key: str | None = None,
    ) -> OnboardMemberResponse:
        """Create the member for auth.phone (tier 1, personal account); auth.token is set from the response."""
        request = build_request(
            OnboardMemberRequest,
            ONBOARD,
            firstname=firstname,
            lastname=lastname,
            phone=auth.phone,
            default_denom=default_denom,
        )
        response = await self._call(auth, ONBOARD, request, OnboardMemberResponse, idempotency_key)
        auth.token = response.details.token
        return response

    async def get_member_dashboard(self, auth: CredexAuth) -> MemberDashboardResponse:
        request = build_request(PhoneRequest, DASHBOARD, phone=auth.phone)
        return await self._call(auth, DASHBOARD, request, MemberDashboardResponse)

    async def get_member_by_handle(self, auth: CredexAuth, member_handle: str) -> MemberByHandleResponse:
        request = build_request(MemberByHandleRequest, MEMBER_BY_HANDLE, member_handle=normalize_handle(member_handle))
        return await self._call(auth, MEMBER_BY_HANDLE, request, MemberByHandleResponse)

    # -- accounts -------------------------------------------------------------------------------------------
    async def get_account_by_handle(self, auth: CredexAuth, account_handle: str) -> AccountByHandleResponse:
        request = build_request(
            AccountByHandleRequest, ACCOUNT_BY_HANDLE, account_handle=normalize_handle(account_handle)
        )
        return await self._call(auth, ACCOUNT_BY_HANDLE, request, AccountByHandleResponse)

    async def get_balances(self, auth: CredexAuth, account_id: str) -> BalancesResponse:
        request = build_request(AccountIDRequest, BALANCES, account_id=account_id)
        return await self._call(auth, BALANCES, request, BalancesResponse)

    async def create_account(
        self,
        auth: CredexAuth,
        *,
        account_name: str,
        account_handle: str,
        default_denom: Denomination,
        account_type: AccountType = AccountType.BUSINESS,
        idempotency_key: str | None = None,
    ) -> CreateAccountResponse:
        request = build_request(
            CreateAccountRequest,
            CREATE_ACCOUNT,
            account_type=account_type,
            account_name=account_name,
            account_handle=normalize_handle(account_handle),
            default_denom=default_denom,
        )
        return await self._call(auth, CREATE_ACCOUNT, request, CreateAccountResponse, idempotency_key)

    async def authorize_for_account(
        self, auth: CredexAuth, account_id: str, member_handle: str, *, idempotency_key: str | None = None
    ) -> AuthorizeForAccountResponse:
        request = build_request(
            AuthorizeForAccountRequest, AUTHORIZE, account_id=account_id, member_handle=normalize_handle(member_handle)
        )
        return await self._call(auth, AUTHORIZE, request, AuthorizeForAccountResponse, idempotency_key)

    async def unauthorize_for_account(
        self, auth: CredexAuth, account_id: str, member_id: str, *, idempotency_key: str | None = None
    ) -> UnauthorizeForAccountResponse:
        request = build_request(UnauthorizeForAccountRequest, UNAUTHORIZE, account_id=account_id, member_id=member_id)
        return await self._call(auth, UNAUTHORIZE, request, UnauthorizeForAccountResponse, idempotency_key)

    async def update_send_offers_to(
        self, auth: CredexAuth, account_id: str, member_id: str, *, idempotency_key: str | None = None
    ) -> UpdateSendOffersToResponse:
        request = build_request(UpdateSendOffersToRequest, SEND_OFFERS_TO, account_id=account_id, member_id=member_id)
        return await self._call(auth, SEND_OFFERS_TO, request, UpdateSendOffersToResponse, idempotency_key)

    # -- credex ---------------------------------------------------------------------------------------------
    async def create_credex(
        self,
        auth: CredexAuth,
        *,
        issuer_account_id: str,
        receiver_account_id: str,
        amount: Decimal,
        denomination: Denomination,
        secured: bool,
        due_date: date | None = None,
        credex_type: CredexType = CredexType.PURCHASE,
        idempotency_key: str | None = None,
    ) -> CreateCredexResponse:
        """Offer a credex. Secured offers take no due date; unsecured ones must have one."""
        if secured and due_date is not None:
            raise CredexInvalidRequest(
                "a secured credex takes no due date", endpoint=CREATE_CREDEX.name, field="dueDate"
            )
        if not secured and due_date is None:
            raise CredexInvalidRequest(
                "an unsecured credex needs a due date", endpoint=CREATE_CREDEX.name, field="dueDate"
            )
        if not isinstance(amount, Decimal):
            raise CredexInvalidRequest("amount must be a Decimal", endpoint=CREATE_CREDEX.name, field="InitialAmount")
        request = build_request(
            CreateCredexRequest,
            CREATE_CREDEX,
            issuer_account_id=issuer_account_id,
            receiver_account_id=receiver_account_id,
            denomination=denomination,
            initial_amount=amount,
            credex_type=credex_type,
            secured_credex=secured,
            due_date=due_date,
        )
        response = await self._call(auth, CREATE_CREDEX, request, CreateCredexResponse, idempotency_key)
        response.details.credex_id = self._credex_id(CREATE_CREDEX, response.details.credex_id, response.action.id)
        return response

    async def accept_credex(
        self, auth: CredexAuth, credex_id: str, *, idempotency_key: str | None = None
    ) -> CredexStateResponse:
        return await self._answer(auth, ACCEPT, credex_id, idempotency_key)

    async def decline_credex(
        self, auth: CredexAuth, credex_id: str, *, idempotency_key: str | None = None
    ) -> CredexStateResponse:
        return await self._answer(auth, DECLINE, credex_id, idempotency_key)

    async def cancel_credex(
        self, auth: CredexAuth, credex_id: str, *, idempotency_key: str | None = None
    ) -> CredexStateResponse:
        return await self._answer(auth, CANCEL, credex_id, idempotency_key)

    async def accept_credex_bulk(
        self, auth: CredexAuth, credex_ids: Sequence[str], *, idempotency_key: str | None = None
    ) -> AcceptCredexBulkResponse:
        request = build_request(AcceptCredexBulkRequest, ACCEPT_BULK, credex_ids=list(credex_ids))
        return await self._call(auth, ACCEPT_BULK, request, AcceptCredexBulkResponse, idempotency_key)

    async def get_credex(self, auth: CredexAuth, credex_id: str, account_id: str) -> GetCredexResponse:
        request = build_request(GetCredexRequest, GET_CREDEX, credex_id=credex_id, account_id=account_id)
        return await self._call(auth, GET_CREDEX, request, GetCredexResponse)

    async def get_ledger(
        self, auth: CredexAuth, account_id: str, *, start_row: int = 0, num_rows: int = 10
    ) -> LedgerResponse:
        """One page of settled credexes, newest first; `dashboard.pagination.has_more` says if there is more."""
        request = build_request(GetLedgerRequest, LEDGER, account_id=account_id, start_row=start_row, num_rows=num_rows)
        return await self._call(auth, LEDGER, request, LedgerResponse)

    async def create_recurring(
        self, auth: CredexAuth, request: CreateRecurringRequest, *, idempotency_key: str | None = None
    ) -> CreateRecurringResponse:
        """Any recurring template; `CreateRecurringRequest.member_tier_subscription` builds the tier upgrade."""
        return await self._call(auth, CREATE_RECURRING, request, CreateRecurringResponse, idempotency_key)

    async def subscribe_member_tier(
        self,
        auth: CredexAuth,
        source_account_id: str,
        *,
        start_date: date,
        amount: Decimal = Decimal("1.00"),
        idempotency_key: str | None = None,
    ) -> CreateRecurringResponse:
        """The tier 3 upgrade: a secured USD subscription every 28 days from the member's account."""
        try:
            request = CreateRecurringRequest.member_tier_subscription(source_account_id, start_date, amount)
        except ValueError as exc:
            raise CredexInvalidRequest(f"invalid subscription: {exc}", endpoint=CREATE_RECURRING.name) from exc
        return await self.create_recurring(auth, request, idempotency_key=idempotency_key)

    # -- helpers --------------------------------------------------------------------------------------------
    async def _answer(
        self, auth: CredexAuth, endpoint: Endpoint, credex_id: str, idempotency_key: str | None
    ) -> CredexStateResponse:
        request = build_request(CredexIDRequest, endpoint, credex_id=credex_id)
        response = await self._call(auth, endpoint, request, CredexStateResponse, idempotency_key)
        response.details.credex_id = self._credex_id(
            endpoint, response.details.credex_id, response.action.id, credex_id
        )
        return response

    @staticmethod
    def _credex_id(endpoint: Endpoint, *candidates: str | None) -> str:
        """details.credexID, else action.id (cancelCredex carries it only there), else what we sent."""
        for candidate in candidates:
            if candidate:
                return candidate
        raise CredexBadResponse("no credexID in details or action.id", endpoint=endpoint.name, status=200)
