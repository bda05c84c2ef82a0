"""Account models: handle lookup, balances, account creation, authorizations and the offers recipient."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from app.credex.models_common import (
    AccountType,
    ApiResponse,
    CredexModel,
    CredexRequest,
    Denomination,
    Handle,
    MoneyText,
    Untyped,
    UUIDStr,
)

# -- requests ---------------------------------------------------------------------------------------------


class AccountByHandleRequest(CredexRequest):
    account_handle: Handle = Field(alias="accountHandle")


class AccountIDRequest(CredexRequest):
    """getBalances."""

    account_id: UUIDStr = Field(alias="accountID")


class CreateAccountRequest(CredexRequest):
    account_type: AccountType = Field(alias="accountType")
    account_name: str = Field(alias="accountName", min_length=3, max_length=50)
    account_handle: Handle = Field(alias="accountHandle")
    default_denom: Denomination = Field(alias="defaultDenom")
    dco_give_in_cxx: Decimal | None = Field(None, alias="DCOgiveInCXX", ge=0, allow_inf_nan=False)
    dco_denom: Denomination | None = Field(None, alias="DCOdenom")


class AuthorizeForAccountRequest(CredexRequest):
    account_id: UUIDStr = Field(alias="accountID")
    member_handle: Handle = Field(alias="memberHandleToBeAuthorized")


class UnauthorizeForAccountRequest(CredexRequest):
    account_id: UUIDStr = Field(alias="accountID")
    member_id: UUIDStr = Field(alias="memberIDtoBeUnauthorized")


class UpdateSendOffersToRequest(CredexRequest):
    account_id: UUIDStr = Field(alias="accountID")
    member_id: UUIDStr = Field(alias="memberIDtoSendOffers")


# -- responses --------------------------------------------------------------------------------------------


class MemberRef(CredexModel):
    member_id: str = Field(alias="memberID")
    firstname: str = ""
    lastname: str = ""


class UnsecuredBalances(CredexModel):
    total_payables: MoneyText = Field(alias="totalPayables")
    total_receivables: MoneyText = Field(alias="totalReceivables")
    net_pay_rec: MoneyText = Field(alias="netPayRec")


class AccountBalances(CredexModel):
    """Balances as credex-core writes them ('100.00 USD'), parsed into exact Money."""

    secured_net_balances_by_denom: list[MoneyText] = Field(alias="securedNetBalancesByDenom")
    unsecured_balances_in_default_denom: UnsecuredBalances | None = Field(None, alias="unsecuredBalancesInDefaultDenom")
    net_credex_assets_in_default_denom: MoneyText | None = Field(None, alias="netCredexAssetsInDefaultDenom")


class AccountByHandleDetails(CredexModel):
    account_id: str = Field(alias="accountID")
    account_name: str = Field(alias="accountName")
    account_handle: str = Field(alias="accountHandle")
    account_type: str | None = Field(None, alias="accountType")
    default_denom: str | None = Field(None, alias="defaultDenom")
    created_at: datetime | None = Field(None, alias="createdAt")


class BalancesDetails(CredexModel):
    account_id: str | None = Field(None, alias="accountID")
    balances: AccountBalances


class CreateAccountDetails(CredexModel):
    account_id: str = Field(alias="accountID")
    account_name: str | None = Field(None, alias="accountName")
    account_handle: str | None = Field(None, alias="accountHandle")
    default_denom: str | None = Field(None, alias="defaultDenom")
    owner_id: str | None = Field(None, alias="ownerID")


class AuthorizeForAccountDetails(CredexModel):
    account_id: str | None = Field(None, alias="accountID")
    member_id_authorized: str | None = Field(None, alias="memberIdAuthorized")


class UnauthorizeForAccountDetails(CredexModel):
    account_id: str | None = Field(None, alias="accountID")
    member_id_unauthorized: str | None = Field(None, alias="memberIdUnauthorized")


class UpdateSendOffersToDetails(CredexModel):
    account_id: str | None = Field(None, alias="accountID")
    send_offers_to: MemberRef = Field(alias="sendOffersTo")


AccountByHandleResponse = ApiResponse[AccountByHandleDetails, Untyped]
BalancesResponse = ApiResponse[BalancesDetails, Untyped]
CreateAccountResponse = ApiResponse[CreateAccountDetails, Untyped]
AuthorizeForAccountResponse = ApiResponse[AuthorizeForAccountDetails, Untyped]
UnauthorizeForAccountResponse = ApiResponse[UnauthorizeForAccountDetails, Untyped]
UpdateSendOffersToResponse = ApiResponse[UpdateSendOffersToDetails, Untyped]
