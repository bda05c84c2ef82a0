"""Startup refuses what would silently misbehave, in one line naming the setting; values are read forgivingly
where that is harmless; in development the banner says how to sign a webhook, and `python -m app.sign` does it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import WHATSAPP_API_VERSION, Settings
from tests.conftest import REPO, free_port

PRODUCTION_SECRETS = {
    "WHATSAPP_APP_SECRET": "app-secret",
    "WHATSAPP_VERIFY_TOKEN": "verify-token",
    "CREDEX_API_URL": "http://credex.invalid",
    "CREDEX_CLIENT_API_KEY": "k" * 16,
}


def clean_env(**values: str) -> dict[str, str]:
    """Only what the child needs: no setting leaks in from the test runner's environment."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(values)
    return env


def run_module(
    module: str, cwd: Path, env: dict[str, str], *args: str, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


REFUSED = [
    ("unknown APP_ENV", {"APP_ENV": "staging"}, "APP_ENV"),
    ("production without secrets", {"APP_ENV": "production"}, "WHATSAPP_APP_SECRET"),
    (
        "production missing one secret",
        {"APP_ENV": "production", **PRODUCTION_SECRETS, "CREDEX_API_URL": ""},
        "CREDEX_API_URL",
    ),
    ("two workers on the embedded store", {"APP_ENV": "development", "WEB_CONCURRENCY": "2"}, "WEB_CONCURRENCY"),
    (
        "two workers, production, no REDIS_URL",
        {"APP_ENV": "production", **PRODUCTION_SECRETS, "WEB_CONCURRENCY": "4"},
        "REDIS_URL",
    ),
    ("unknown LOG_LEVEL", {"APP_ENV": "development", "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
    ("port out of range", {"APP_ENV": "development", "PORT": "70000"}, "PORT"),
]


@pytest.mark.parametrize(("why", "env", "named"), REFUSED, ids=[why for why, _, _ in REFUSED])
def test_python_m_app_refuses_in_one_line(tmp_path: Path, why: str, env: dict[str, str], named: str) -> None:
    result = run_module("app", tmp_path, clean_env(**env))
    assert result.returncode == 2, why
    assert result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, result.stderr.decode()
    assert lines[0].startswith("configuration error: ") and named in lines[0]
    assert "Traceback" not in lines[0] and "app-secret" not in lines[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Development", "development"), (" PRODUCTION ", "production"), ("development", "development")],
)
def test_app_env_is_case_insensitive(raw: str, expected: str) -> None:
    assert Settings(app_env=raw, **{k.lower(): v for k, v in PRODUCTION_SECRETS.items()}).app_env == expected


@pytest.mark.parametrize(("raw", "expected"), [("debug", "DEBUG"), ("Info", "INFO"), ("WARNING", "WARNING")])
def test_log_level_is_case_insensitive(raw: str, expected: str) -> None:
    assert Settings(app_env="development", log_level=raw).log_level == expected


def test_more_workers_need_redis() -> None:
    with pytest.raises(ValidationError, match="WEB_CONCURRENCY=2 needs REDIS_URL"):
        Settings(app_env="development", web_concurrency=2)
    assert Settings(app_env="development", web_concurrency=2, redis_url="redis://redis:6379/0").web_concurrency == 2


def test_graph_api_version_defaults_to_v25_and_refuses_nonsense() -> None:
    assert Settings(app_env="development").whatsapp_api_version == WHATSAPP_API_VERSION == "v25.0"
    assert Settings(app_env="development", whatsapp_api_version="v27.0").whatsapp_api_version == "v27.0"
    with pytest.raises(ValidationError, match="whatsapp_api_version"):
        Settings(app_env="development", whatsapp_api_version="25")


def test_dev_banner_tells_how_to_sign_and_the_signed_curl_is_accepted(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(APP_ENV="development", PORT=str(port))
    server = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert server.stdout is not None
        banner = [server.stdout.readline().decode() for _ in range(4)]
        assert "webhook app secret: .dev/whatsapp_app_secret" in banner[2]
        assert f"python -m app.sign --text hi --curl http://127.0.0.1:{port}/webhook | sh" in banner[3]
        secret_file = tmp_path / ".dev" / "whatsapp_app_secret"
        assert secret_file.stat().st_mode & 0o777 == 0o600
        body = tmp_path / "body.json"
        body.write_text(json.dumps(webhook_text("263779990001", "hi")))
        signed = run_module(
            "app.sign", tmp_path, clean_env(), "body.json", "--curl", f"http://127.0.0.1:{port}/webhook"
        )
        assert signed.returncode == 0, signed.stderr
        curl = shlex.split(signed.stdout.decode())
        assert curl[0] == "curl"
        answer = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            answer = subprocess.run(
                [*curl, "-o", "/dev/null", "-w", "%{http_code}"], cwd=tmp_path, capture_output=True, check=False
            )
            if answer.stdout == b"200":
                break
            time.sleep(0.2)
        assert answer is not None and answer.stdout == b"200", answer
        texted = run_module(
            "app.sign", tmp_path, clean_env(), "--text", "hi", "--curl", f"http://127.0.0.1:{port}/webhook"
        )
        shell = subprocess.run(["sh"], input=texted.stdout, cwd=tmp_path, capture_output=True, timeout=30, check=False)
        assert json.loads(shell.stdout)["status"] == "ok", shell
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_sign_prints_the_header_for_stdin_with_the_environment_secret(tmp_path: Path) -> None:
    result = run_module("app.sign", tmp_path, clean_env(WHATSAPP_APP_SECRET="secret"), stdin=b"test")
    assert result.returncode == 0
    # PROTOCOL.md's test vector: HMAC-SHA256(key="secret", msg="test").
    expected = "X-Hub-Signature-256: sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    assert result.stdout.decode().strip() == expected


def test_sign_without_a_secret_refuses_in_one_line(tmp_path: Path) -> None:
    result = run_module("app.sign", tmp_path, clean_env(), stdin=b"{}")
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "WHATSAPP_APP_SECRET" in lines[0]


def webhook_text(sender: str, text: str) -> dict[str, object]:
    message = {
        "from": sender,
        "id": f"wamid.sign.{time.time_ns()}",
        "timestamp": "1764633600",
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Someone"}, "wa_id": sender}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba", "changes": [{"field": "messages", "value": value}]}],
    }
