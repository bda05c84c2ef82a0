"""What `python -m app` and `python -m app.sign` do before anything else: read the settings or refuse in one line.

A start that would silently misbehave (two workers on the embedded store, production without its secrets, an
unknown APP_ENV) stops here with one line naming the setting, never a pydantic traceback. In development the
webhook app secret is kept in a file, so a curl signed in another terminal matches the running server.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from app.config import Settings, get_settings

DEV_SECRET_FILE = Path(".dev") / "whatsapp_app_secret"
APP_SECRET_ENV = "WHATSAPP_APP_SECRET"  # noqa: S105 - the variable's name, not a secret
_SENSITIVE = ("secret", "token", "key", "url")


def describe(exc: ValidationError) -> str:
    """One line naming each refused setting; values are echoed only for settings that cannot hold a secret."""
    parts: list[str] = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            parts.append(message)
            continue
        name = str(error["loc"][0])
        shown = "" if any(word in name for word in _SENSITIVE) else f" (got {str(error.get('input'))[:40]!r})"
        parts.append(f"{name.upper()}: {message}{shown}")
    return "; ".join(parts)


def refuse(message: str) -> NoReturn:
    print(f"configuration error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def load_settings() -> Settings:
    """The settings, or exit 2 with one line on stderr."""
    try:
        return get_settings()
    except ValidationError as exc:
        refuse(describe(exc))


def dev_app_secret(environ: MutableMapping[str, str] = os.environ, path: Path = DEV_SECRET_FILE) -> str:
    """Where the development app secret comes from, exporting the file's secret when the environment has none.

    The file is created once (mode 600), so every restart and every `python -m app.sign` use the same secret.
    """
    if environ.get(APP_SECRET_ENV):
        return f"{APP_SECRET_ENV} from the environment"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    environ[APP_SECRET_ENV] = path.read_text().strip()
    return f"{path} (generated once; set {APP_SECRET_ENV} to choose your own)"
