"""Member models: login, onboarding, the member dashboard and member lookup by handle."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from app.credex.models_accounts import AccountBalances, MemberRef
from app.credex.models_common import (
    Amount,
    ApiResponse,
    CredexModel,
    CredexRequest,
    Denomination,
    Handle,
    Phone,
    Untyped,
)

# -- requests ---------------------------------------------------------------------------------------------


class PhoneRequest(CredexRequest):
    """login and getMemberDashboardByPhone."""

    phone: Phone


class OnboardMemberRequest(CredexRequest):
    firstname: str = Field(min_length=3, max_length=50)
    lastname: str = Field(min_length=3, max_length=50)
    phone: Phone
    default_denom: Denomination = Field(alias="defaultDenom")


class MemberByHandleRequest(CredexRequest):
    member_handle: Handle = Field(alias="memberHandle")


# -- responses --------------------------------------------------------------------------------------------


class LoginDetails(CredexModel):
    token: str = Field(min_length=1)
    member_id: str | None = Field(None, alias="memberID")
    phone: str | None = None


class OnboardMemberDetails(CredexModel):
    member_id: str = Field(alias="memberID")
    token: str = Field(min_length=1)
    firstname: str | None = None
    lastname: str | None = None
    member_handle: str | None = Field(None, alias="memberHandle")
    default_denom: str | None = Field(None, alias="defaultDenom")
    default_account_id: str | None = Field(None, alias="defaultAccountID")


class PendingOffer(CredexModel):
    credex_id: str = Field(alias="credexID")
    amount: Amount | None = None
    denomination: str | None = None
    formatted_initial_amount: str | None = Field(None, alias="formattedInitialAmount")
    counterparty_account_name: str | None = Field(None, alias="counterpartyAccountName")
    secured: bool | None = None
    due_date: date | None = Field(None, alias="dueDate")


class PendingOffers(CredexModel):
    incoming: list[PendingOffer] = Field(default_factory=list, alias="pendingInData")
    outgoing: list[PendingOffer] = Field(default_factory=list, alias="pendingOutData")


class DashboardAccount(CredexModel):
    account_id: str = Field(alias="accountID")
    account_name: str = Field(alias="accountName")
    account_type: str = Field(alias="accountType")
    default_denom: str = Field(alias="defaultDenom")
    account_handle: str | None = Field(None, alias="accountHandle")
    is_owned_account: bool | None = Field(None, alias="isOwnedAccount")
    send_offers_to: MemberRef | None = Field(None, alias="sendOffersTo")
    balances: AccountBalances
    pending_offers: PendingOffers = Field(default_factory=PendingOffers, alias="pendingOffers")
    recent_activity: list[dict[str, Any]] = Field(default_factory=list, alias="recentActivity")


class MemberDashboard(CredexModel):
    accounts: list[DashboardAccount]
    member_tier: int | None = Field(None, alias="memberTier")
    remaining_available_usd: Amount | None = Field(None, alias="remainingAvailableUSD")


class MemberDashboardDetails(CredexModel):
    member_id: str = Field(alias="memberID")
    firstname: str
    lastname: str
    member_handle: str = Field(alias="memberHandle")
    default_denom: str = Field(alias="defaultDenom")
    member_tier: int = Field(alias="memberTier", ge=1)
    remaining_available_usd: Amount | None = Field(None, alias="remainingAvailableUSD")


class MemberByHandleDetails(CredexModel):
    member_id: str = Field(alias="memberID")
    member_name: str = Field(alias="memberName")
    member_handle: str = Field(alias="memberHandle")


LoginResponse = ApiResponse[LoginDetails, Untyped]
OnboardMemberResponse = ApiResponse[OnboardMemberDetails, MemberDashboard | None]
MemberDashboardResponse = ApiResponse[MemberDashboardDetails, MemberDashboard]
MemberByHandleResponse = ApiResponse[MemberByHandleDetails, Untyped]
