"""Terminal chat with a running development service: `python -m app.chat --phone 263771234567`.

It takes the same path as the browser simulator (POST /simulator/send, which signs a real webhook; replies
polled from GET /dev/outbox/{phone}), so a flow can be tried or scripted without a browser or a Meta account.
Buttons and list rows print as numbered choices: typing a number taps it, anything else is sent as text.
`--once TEXT` (repeatable) sends, prints the replies and exits, which makes the chat scriptable in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

import httpx

from app.whatsapp.templates import APPROVED

POLL_SECONDS = 0.7
QUIT = "/quit"
PHONE = re.compile(r"^[0-9]{8,15}$")
INDENT = "      "


class ChatError(Exception):
    """The service cannot be used for chatting (unreachable, or not in development mode)."""


@dataclass(frozen=True)
class Choice:
    kind: Literal["button_reply", "list_reply", "button"]
    reply_id: str
    title: str


BOLD = re.compile(r"\*([^*\n]+)\*")


def bold(line: str) -> str:
    """WhatsApp's *bold* as the terminal's bold (ANSI), as the person would see it."""
    return BOLD.sub(lambda m: f"\033[1m{m.group(1)}\033[0m", line)


def _template(message: dict[str, Any], choices: list[Choice]) -> list[str]:
    """A template as the person reads it (the approved text filled in), its quick replies numbered as choices."""
    params = [str(p) for p in message.get("body_parameters", [])]
    approved = APPROVED.get(str(message.get("name")))
    if approved is None:
        return [f"[template {message.get('name')}] {' | '.join(params)}".rstrip()]
    lines = approved.render(params).splitlines() or [""]
    payloads = [str(p) for p in message.get("quick_reply_payloads", [])]
    for index, title in enumerate(approved.quick_replies):
        choices.append(Choice("button", payloads[index] if index < len(payloads) else title, title))
        lines.append(f"  [{len(choices)}] {title}")
    return lines


def render(message: dict[str, Any], choices: list[Choice]) -> list[str]:
    """Lines for one outbox message; its buttons / rows are appended to `choices` and numbered from there."""
    kind = message.get("kind")
    lines: list[str] = []
    if message.get("header"):
        lines.append(f"*{message['header']}*")
    if kind in ("text", "buttons", "list", "request_contact_info"):
        lines += str(message.get("body", "")).splitlines() or [""]
        if kind == "request_contact_info":
            lines.append("  [Share phone number] (WhatsApp's own button: type your number here instead)")
    elif kind == "template":
        lines += _template(message, choices)
    elif kind == "mark_read":
        return []
    else:
        lines.append(f"[unsupported message kind {kind!r}]")
    if message.get("footer"):
        lines.append(f"_{message['footer']}_")
    for button in message.get("buttons", []):
        choices.append(Choice("button_reply", button["id"], button["title"]))
        lines.append(f"  [{len(choices)}] {button['title']}")
    if kind == "list":
        lines.append(f"  ☰ {message.get('button', '')}")
        for section in message.get("sections", []):
            if section.get("title"):
                lines.append(f"  {section['title']}")
            for row in section.get("rows", []):
                choices.append(Choice("list_reply", row["id"], row["title"]))
                described = f" — {row['description']}" if row.get("description") else ""
                lines.append(f"  [{len(choices)}] {row['title']}{described}")
    return ["bot › " + lines[0], *(INDENT + line for line in lines[1:])]


class Chat:
    """One phone number talking to the service; `choices` are the taps the latest replies offered."""

    def __init__(self, client: httpx.AsyncClient, phone: str, name: str | None = None) -> None:
        self.client = client
        self.phone = phone
        self.name = name
        self.after = 0
        self.choices: list[Choice] = []
        self._reading = asyncio.Lock()

    async def skip_history(self) -> None:
        """Start after what the outbox already holds, so only answers to this session are shown."""
        response = await self._get_outbox()
        self.after = int(response["last_seq"])

    async def _get_outbox(self) -> dict[str, Any]:
        try:
            response = await self.client.get(f"/dev/outbox/{self.phone}", params={"after": self.after})
        except httpx.TransportError as exc:
            raise ChatError(f"cannot reach the service: {exc}") from exc
        if response.status_code == 404:
            raise ChatError("no /dev/outbox here: is the service running with APP_ENV=development?")
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return page

    async def read(self) -> list[dict[str, Any]]:
        """New outbox messages, each exactly once even when a watcher and a send read at the same time."""
        async with self._reading:
            page = await self._get_outbox()
            messages: list[dict[str, Any]] = []
            for item in page["items"]:
                if item["seq"] > self.after:
                    self.after = item["seq"]
                    messages.append(item["message"])
            return messages

    def payload_for(self, line: str) -> dict[str, Any]:
        """A number picks one of the current choices; anything else is a text message."""
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            choice = self.choices[int(text) - 1]
            return {"kind": choice.kind, "reply_id": choice.reply_id, "reply_title": choice.title[:24]}
        return {"kind": "text", "text": line}

    async def send(self, line: str) -> int:
        """Send one line; returns the webhook's HTTP status (200 when the bot handled it)."""
        body = {"phone": self.phone, **self.payload_for(line)}
        if self.name:
            body["name"] = self.name
        try:
            response = await self.client.post("/simulator/send", json=body)
        except httpx.TransportError as exc:
            raise ChatError(f"cannot reach the service: {exc}") from exc
        if response.status_code == 404:
            raise ChatError("no /simulator here: is the service running with APP_ENV=development?")
        if response.status_code == 422:
            raise ChatError(f"refused: {response.json().get('detail')}")
        return response.status_code

    def show(self, messages: list[dict[str, Any]], out: TextIO) -> None:
        """Print replies; the choices are those of the latest message only: after a reply without buttons or
        rows, a typed number is text again (an amount, a row number the bot reads itself), never a stale tap."""
        for message in messages:
            if message.get("kind") == "mark_read":
                continue
            fresh: list[Choice] = []
            for line in render(message, fresh):
                print(bold(line) if out.isatty() else line, file=out)
            self.choices = fresh
        out.flush()


async def once(chat: Chat, lines: Sequence[str], out: TextIO, wait: float = 2.0) -> int:
    """Send each line in turn and print the replies; 0 when every message was handled."""
    await chat.skip_history()
    status = 0
    for line in lines:
        print(f"you › {line}", file=out)
        code = await chat.send(line)
        if code != 200:
            print(f"{INDENT}(webhook answered {code})", file=out)
            status = 1
        messages = await chat.read()
        deadline = asyncio.get_running_loop().time() + wait
        while not messages and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            messages = await chat.read()
        chat.show(messages, out)
    return status


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """A daemon thread reads stdin, so Ctrl-C never waits for a pending input() to return."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def interactive(chat: Chat, out: TextIO) -> int:
    """Type lines until /quit or end of input; replies to this number (offers from others too) print as they land."""
    await chat.skip_history()
    print(f"Chatting as +{chat.phone}. Type a message, a number to pick a choice, {QUIT} to leave.", file=out)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_stdin_lines, args=(asyncio.get_running_loop(), queue), daemon=True).start()

    async def watch() -> None:
        while True:
            try:
                chat.show(await chat.read(), out)
            except (ChatError, httpx.HTTPError) as exc:  # keep watching: the service may come back
                print(f"{INDENT}(outbox unavailable: {exc})", file=out)
                await asyncio.sleep(5 * POLL_SECONDS)
            await asyncio.sleep(POLL_SECONDS)

    watcher = asyncio.create_task(watch())
    try:
        while (line := await queue.get()) is not None and line.strip() != QUIT:
            if line.strip():
                code = await chat.send(line)
                if code != 200:
                    print(f"{INDENT}(webhook answered {code})", file=out)
                chat.show(await chat.read(), out)
    finally:
        watcher.cancel()
    return 0


def phone_number(value: str) -> str:
    digits = value.strip().removeprefix("+")
    if not PHONE.fullmatch(digits):
        raise argparse.ArgumentTypeError("a phone number is 8 to 15 digits, country code first")
    return digits


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.chat", description="Chat with the bot from a terminal.")
    parser.add_argument("--phone", type=phone_number, required=True, help="your WhatsApp number, e.g. 263771234567")
    default_url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    parser.add_argument("--url", default=default_url, help="the running service (APP_ENV=development; honours PORT)")
    parser.add_argument("--name", default=None, help="profile name sent with each message")
    parser.add_argument("--once", action="append", metavar="TEXT", help="send TEXT, print the replies, exit")
    parser.add_argument("--wait", type=float, default=2.0, help="--once: seconds to wait for replies")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, out: TextIO, transport: httpx.AsyncBaseTransport | None = None) -> int:
    async with httpx.AsyncClient(base_url=args.url, transport=transport, timeout=30.0) as client:
        chat = Chat(client, args.phone, args.name)
        try:
            if args.once:
                return await once(chat, args.once, out, args.wait)
            return await interactive(chat, out)
        except ChatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return asyncio.run(run(parse_args(argv), sys.stdout))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
