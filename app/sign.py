"""`python -m app.sign [BODY_FILE | --text TEXT] [--curl URL]`: sign a webhook body as Meta would, by hand.

    .venv/bin/python -m app.sign body.json                                   # X-Hub-Signature-256: sha256=...
    .venv/bin/python -m app.sign body.json --curl http://127.0.0.1:8000/webhook | sh
    .venv/bin/python -m app.sign --text hi --phone 263770000002 --curl http://127.0.0.1:8000/webhook | sh

The body is read from BODY_FILE (or stdin) as raw bytes, since the signature covers the exact bytes sent; `--text`
builds a text-message webhook instead, with a fresh message id so that it is never dropped as a duplicate. The
secret is WHATSAPP_APP_SECRET, else the development secret `python -m app` keeps in .dev/whatsapp_app_secret.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
from pathlib import Path

import orjson

from app.api.webhook_docs import text_webhook
from app.startup import APP_SECRET_ENV, DEV_SECRET_FILE, refuse
from app.whatsapp.signature import sign


def app_secret() -> str:
    secret = os.environ.get(APP_SECRET_ENV) or (DEV_SECRET_FILE.read_text().strip() if DEV_SECRET_FILE.exists() else "")
    if not secret:
        refuse(f"{APP_SECRET_ENV} is not set and {DEV_SECRET_FILE} does not exist (start `make run` once)")
    return secret


def curl_line(url: str, signature: str, body_file: str | None, body: bytes) -> str:
    data = f"@{body_file}" if body_file else body.decode("utf-8", errors="replace")
    return shlex.join(
        [
            "curl", "-sS", "-X", "POST", url,
            "-H", "Content-Type: application/json",
            "-H", f"X-Hub-Signature-256: {signature}",
            "--data-binary", data,
        ]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.sign", description=__doc__.split("\n")[0])
    parser.add_argument("body", nargs="?", help="file holding the JSON body (default: stdin)")
    parser.add_argument("--text", help="sign a text-message webhook with this text instead of a body")
    parser.add_argument("--phone", default="263770000002", help="the sender of --text (default: Demo Bob)")
    parser.add_argument("--curl", metavar="URL", help="print a ready curl command posting the body to URL")
    args = parser.parse_args(argv)
    if args.text is not None and args.body is not None:
        parser.error("give a BODY_FILE or --text, not both")
    body_file = None if args.body in (None, "-") else str(args.body)
    if args.text is not None:
        message_id = f"wamid.SIGN{secrets.token_hex(12).upper()}"
        body = orjson.dumps(text_webhook(args.phone, args.text, message_id, name="Test sender"))
    else:
        body = Path(body_file).read_bytes() if body_file else sys.stdin.buffer.read()
    signature = sign(app_secret().encode(), body)
    print(curl_line(args.curl, signature, body_file, body) if args.curl else f"X-Hub-Signature-256: {signature}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
