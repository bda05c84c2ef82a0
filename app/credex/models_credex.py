"""Credex models: offers and their answers, one credex, the ledger, and recurring (tier subscription)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from app.credex.models_common import (
    Amount,
    ApiResponse,
    CredexModel,
    CredexRequest,
    CredexType,
    Denomination,
    OffersOrRequests,
    TemplateType,
    Untyped,
    UUIDStr,
)

MEMBERTIER_SUBSCRIPTION_DAYS = 28
"""credex-core bills the tier subscription every 28 days."""

# -- requests ---------------------------------------------------------------------------------------------


class CreateCredexRequest(CredexRequest):
    """`InitialAmount` goes out as an exact JSON number; `dueDate` only for unsecured credex."""

    issuer_account_id: UUIDStr = Field(alias="issuerAccountID")
    receiver_account_id: UUIDStr = Field(alias="receiverAccountID")
    denomination: Denomination = Field(alias="Denomination")
    initial_amount: Decimal = Field(alias="InitialAmount", ge=0, allow_inf_nan=False)
    credex_type: CredexType = Field(CredexType.PURCHASE, alias="credexType")
    offers_or_requests: OffersOrRequests = Field(OffersOrRequests.OFFERS, alias="OFFERSorREQUESTS")
    secured_credex: bool = Field(alias="securedCredex")
    due_date: date | None = Field(None, alias="dueDate")


class CredexIDRequest(CredexRequest):
    """acceptCredex, declineCredex, cancelCredex."""

    credex_id: UUIDStr = Field(alias="credexID")


class AcceptCredexBulkRequest(CredexRequest):
    credex_ids: list[UUIDStr] = Field(alias="credexIDs", min_length=1)


class GetCredexRequest(CredexRequest):
    credex_id: UUIDStr = Field(alias="credexID")
    account_id: UUIDStr = Field(alias="accountID")


class GetLedgerRequest(CredexRequest):
    account_id: UUIDStr = Field(alias="accountID")
    num_rows: int = Field(10, alias="numRows", ge=1)
    start_row: int = Field(0, alias="startRow", ge=0)


class CreateRecurringRequest(CredexRequest):
    source_account_id: UUIDStr = Field(alias="sourceAccountID")
    target_account_id: UUIDStr | None = Field(None, alias="targetAccountID")
    template_type: TemplateType = Field(alias="templateType")
    pay_frequency: int = Field(alias="payFrequency", ge=1)
    start_date: date = Field(alias="startDate")
    duration: int | None = Field(None, ge=1)
    amount: Decimal | None = Field(None, ge=0, allow_inf_nan=False)
    denomination: Denomination | None = None
    secured_credex: bool | None = Field(None, alias="securedCredex")
    dco_give_in_cxx: Decimal | None = Field(None, alias="DCOgiveInCXX", ge=0, allow_inf_nan=False)
    dco_denom: Denomination | None = Field(None, alias="DCOdenom")
    member_tier: Literal[3] | None = Field(None, alias="memberTier")

    @classmethod
    def member_tier_subscription(
        cls, source_account_id: str, start_date: date, amount: Decimal = Decimal("1.00")
    ) -> CreateRecurringRequest:
        """The tier 3 upgrade as the bot asks for it: a secured USD payment every 28 days."""
        return cls(
            source_account_id=source_account_id,
            template_type=TemplateType.MEMBERTIER_SUBSCRIPTION,
            pay_frequency=MEMBERTIER_SUBSCRIPTION_DAYS,
            start_date=start_date,
            amount=amount,
            denomination=Denomination.USD,
            secured_credex=True,
            member_tier=3,
        )


# -- responses --------------------------------------------------------------------------------------------


class CreateCredexDetails(CredexModel):
    credex_id: str | None = Field(None, alias="credexID")
    amount: Amount | None = None
    denomination: str | None = None
    secured_credex: bool | None = Field(None, alias="securedCredex")
    receiver_account_id: str | None = Field(None, alias="receiverAccountID")
    receiver_account_name: str | None = Field(None, alias="receiverAccountName")
    due_date: date | None = Field(None, alias="dueDate")


class CredexStateDetails(CredexModel):
    """acceptCredex / declineCredex / cancelCredex: cancel's details carry no credexID (action.id has it)."""

    credex_id: str | None = Field(None, alias="credexID")
    amount: Amount | None = None
    denomination: str | None = None
    secured_credex: bool | None = Field(None, alias="securedCredex")
    acceptor_account_id: str | None = Field(None, alias="acceptorAccountID")
    receiver_account_id: str | None = Field(None, alias="receiverAccountID")
    declined_at: datetime | None = Field(None, alias="declinedAt")
    reason: str | None = None


class BulkFailure(CredexModel):
    credex_id: str = Field(alias="credexID")
    error: str = ""


class BulkSummary(CredexModel):
    accepted: list[str] = Field(default_factory=list)
    already_accepted: list[str] = Field(default_factory=list, alias="alreadyAccepted")
    failed: list[BulkFailure] = Field(default_factory=list)


class AcceptCredexBulkDetails(CredexModel):
    summary: BulkSummary
    total_processed: int | None = Field(None, alias="totalProcessed")
    success_count: int | None = Field(None, alias="successCount")
    failure_count: int | None = Field(None, alias="failureCount")


class GetCredexDetails(CredexModel):
    transaction_type: str = Field(alias="transactionType")
    initial_amount: Amount = Field(alias="InitialAmount")
    secured_credex: bool = Field(alias="securedCredex")
    counterparty_account_name: str = Field(alias="counterpartyAccountName")
    credex_id: str | None = Field(None, alias="credexID")
    denomination: str | None = None
    formatted_initial_amount: str | None = Field(None, alias="formattedInitialAmount")
    counterparty_account_id: str | None = Field(None, alias="counterpartyAccountID")
    due_date: date | None = Field(None, alias="dueDate")
    created_at: datetime | None = Field(None, alias="createdAt")


class LedgerEntry(CredexModel):
    credex_id: str = Field(alias="credexID")
    amount: Amount
    denomination: str
    timestamp: datetime | None = None
    type: str | None = None
    description: str | None = None
    counterparty_account_name: str | None = Field(None, alias="counterpartyAccountName")
    formatted_amount: str | None = Field(None, alias="formattedAmount")


class LedgerDetails(CredexModel):
    account_id: str | None = Field(None, alias="accountID")
    ledger: list[LedgerEntry]


class Pagination(CredexModel):
    start_row: int = Field(alias="startRow")
    num_rows: int = Field(alias="numRows")
    has_more: bool = Field(alias="hasMore")


class LedgerDashboard(CredexModel):
    pagination: Pagination
    ledger: list[Any] = Field(default_factory=list)


class ScheduleInfo(CredexModel):
    pay_frequency: int | None = Field(None, alias="payFrequency")
    next_run_date: date | None = Field(None, alias="nextRunDate")
    amount: Amount | None = None
    denomination: str | None = None
    status: str | None = None
    template_type: str | None = Field(None, alias="templateType")
    member_tier: int | None = Field(None, alias="memberTier")


class RecurringDetails(CredexModel):
    recurring_id: str = Field(alias="recurringID")
    amount: Amount | None = None
    denomination: str | None = None
    pay_frequency: int | None = Field(None, alias="payFrequency")
    next_date: date | None = Field(None, alias="nextDate")
    status: str | None = None
    schedule_info: ScheduleInfo | None = Field(None, alias="scheduleInfo")


CreateCredexResponse = ApiResponse[CreateCredexDetails, Untyped]
CredexStateResponse = ApiResponse[CredexStateDetails, Untyped]
AcceptCredexBulkResponse = ApiResponse[AcceptCredexBulkDetails, Untyped]
GetCredexResponse = ApiResponse[GetCredexDetails, Untyped]
LedgerResponse = ApiResponse[LedgerDetails, LedgerDashboard]
CreateRecurringResponse = ApiResponse[RecurringDetails, Untyped]
