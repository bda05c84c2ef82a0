"""Sandbox handlers for members and accounts: login, onboarding, dashboard, lookups, balances, account admin.

Handlers are synchronous, so each runs atomically on the sandbox's event loop.
"""

from __future__ import annotations

from app.credex import models as m
from app.credex.sandbox_ledger import Ledger, Member
from app.credex.sandbox_support import ENTREPRENEUR_TIER, MAX_AUTHORIZED, SandboxError
from app.credex.sandbox_views import (
    Reply,
    balances,
    member_dashboard,
    member_details,
    member_ref,
    signed_in,
    timestamp,
)


def login(ledger: Ledger, _: Member | None, req: m.PhoneRequest) -> Reply:
    member = ledger.member_by_phone(req.phone)
    token = ledger.issue_token(member)
    details = {"memberID": member.member_id, "phone": member.phone, "token": token}
    return Reply("Successfully logged in", "MEMBER_LOGIN", member.member_id, details, {}, member.member_id)


def onboard_member(ledger: Ledger, _: Member | None, req: m.OnboardMemberRequest) -> Reply:
    member = ledger.add_member(req.phone, req.firstname, req.lastname, req.default_denom.value)
    token = ledger.issue_token(member)
    details = {
        "memberID": member.member_id,
        "firstname": member.firstname,
        "lastname": member.lastname,
        "memberHandle": member.handle,
        "defaultDenom": member.default_denom,
        "token": token,
        "defaultAccountID": ledger.accounts_for(member)[0].account_id,
    }
    return Reply(
        f"Personal account created with default denomination {member.default_denom}",
        "MEMBER_ONBOARDED",
        member.member_id,
        details,
        member_dashboard(ledger, member),
        member.member_id,
        201,
    )


def dashboard(ledger: Ledger, member: Member | None, req: m.PhoneRequest) -> Reply:
    me, target = signed_in(member), ledger.member_by_phone(req.phone)
    if target is not me:
        raise SandboxError(403, "Not authorized to view this member's dashboard", "UNAUTHORIZED", field="phone")
    return Reply(
        "Dashboard retrieved successfully",
        "DASHBOARD_RETRIEVED",
        me.member_id,
        member_details(ledger, me),
        member_dashboard(ledger, me),
    )


def member_by_handle(ledger: Ledger, member: Member | None, req: m.MemberByHandleRequest) -> Reply:
    found = ledger.member_by_handle(req.member_handle)
    details = {"memberID": found.member_id, "memberName": found.name, "memberHandle": found.handle}
    return Reply(f"Found member {found.name}", "MEMBER_FOUND", found.member_id, details, {}, found.member_id)


def account_by_handle(ledger: Ledger, member: Member | None, req: m.AccountByHandleRequest) -> Reply:
    a = ledger.account_by_handle(req.account_handle)
    details = {
        "accountID": a.account_id,
        "accountName": a.name,
        "accountHandle": a.handle,
        "accountType": a.account_type,
        "defaultDenom": a.default_denom,
        "createdAt": timestamp(a.created_at),
    }
    return Reply("Account found successfully", "ACCOUNT_FOUND", a.account_id, details, {}, "system")


def get_balances(ledger: Ledger, member: Member | None, req: m.AccountIDRequest) -> Reply:
    account = ledger.account(req.account_id)
    if signed_in(member).member_id not in account.authorized:  # no 403 in the contract: do not reveal the account
        raise SandboxError(404, "Account not found", "ACCOUNT_NOT_FOUND", field="accountID")
    data = balances(ledger, account)
    return Reply(
        "Account balances retrieved successfully",
        "BALANCES_RETRIEVED",
        account.account_id,
        {"accountID": account.account_id, "balances": data},
        {"balanceData": data},
    )


def authorize(ledger: Ledger, member: Member | None, req: m.AuthorizeForAccountRequest) -> Reply:
    me = signed_in(member)
    account = ledger.owned_account(me, req.account_id)
    if me.tier < ENTREPRENEUR_TIER:
        raise SandboxError(
            403,
            "You can only authorize someone to transact on behalf of your account when you are "
            "on the Entrepreneur tier or above",
            "TIER_REQUIREMENT",
        )
    target = ledger.member_by_handle(req.member_handle)
    if target.member_id not in account.authorized:
        if len(account.authorized) - 1 >= MAX_AUTHORIZED:
            raise SandboxError(400, f"Limit of {MAX_AUTHORIZED} authorized accounts reached", "LIMIT_EXCEEDED")
        account.authorized.append(target.member_id)
    return Reply(
        "Member authorized for account successfully",
        "ACCOUNT_AUTHORIZED",
        account.account_id,
        {"accountID": account.account_id, "memberIdAuthorized": target.member_id},
        {},
    )


def unauthorize(ledger: Ledger, member: Member | None, req: m.UnauthorizeForAccountRequest) -> Reply:
    account = ledger.owned_account(signed_in(member), req.account_id)
    target = ledger.member(req.member_id)
    if target.member_id == account.owner_id:
        raise SandboxError(
            400, "The account owner cannot be unauthorized", "INVALID_PARAMS", field="memberIDtoBeUnauthorized"
        )
    if target.member_id not in account.authorized:
        raise SandboxError(404, "Member is not authorized for this account", "NOT_FOUND")
    account.authorized.remove(target.member_id)
    if account.send_offers_to == target.member_id:
        account.send_offers_to = account.owner_id
    return Reply(
        "Authorization removed successfully",
        "ACCOUNT_UNAUTHORIZED",
        account.account_id,
        {"accountID": account.account_id, "memberIdUnauthorized": target.member_id},
        {},
    )


def update_send_offers_to(ledger: Ledger, member: Member | None, req: m.UpdateSendOffersToRequest) -> Reply:
    account = ledger.owned_account(signed_in(member), req.account_id)
    target = ledger.member(req.member_id)
    if target.member_id not in account.authorized:
        raise SandboxError(
            400,
            "Failed to update send offers recipient. Please verify the member is authorized for this account.",
            "UNAUTHORIZED_MEMBER",
            field="memberIDtoSendOffers",
        )
    account.send_offers_to = target.member_id
    ref = member_ref(target)
    return Reply(
        "Send offers recipient updated successfully",
        "SEND_OFFERS_UPDATED",
        account.account_id,
        {"accountID": account.account_id, "sendOffersTo": ref},
        {"sendOffersTo": ref},
    )


def create_account(ledger: Ledger, member: Member | None, req: m.CreateAccountRequest) -> Reply:
    me = signed_in(member)
    if me.tier < ENTREPRENEUR_TIER:
        raise SandboxError(403, "Account creation not permitted on current membership tier", "TIER_LIMIT_EXCEEDED")
    if req.account_type is not m.AccountType.BUSINESS:
        raise SandboxError(
            400,
            f"Accounts of type {req.account_type} cannot be created here",
            "INVALID_ACCOUNT_TYPE",
            field="accountType",
        )
    a = ledger.add_account(me, req.account_name, req.account_handle, "BUSINESS", req.default_denom.value)
    details = {
        "accountID": a.account_id,
        "accountName": a.name,
        "accountHandle": a.handle,
        "defaultDenom": a.default_denom,
        "ownerID": me.member_id,
    }
    return Reply(
        f'Account "{a.name}" created successfully with default denomination {a.default_denom}',
        "ACCOUNT_CREATED",
        a.account_id,
        details,
        {},
        status=201,
    )
