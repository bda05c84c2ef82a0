"""`python -m app` (what `make run` runs): uvicorn on HOST:PORT, printing where to go."""

from __future__ import annotations

import os
import shutil
import tempfile

import uvicorn

from app.config import get_settings
from app.logs import configure_logging
from app.startup import dev_app_secret, load_settings


def main() -> None:
    settings = load_settings()
    secret_source = None
    if settings.is_development:
        secret_source = dev_app_secret()
        get_settings.cache_clear()
        settings = load_settings()
    configure_logging(settings.is_development, settings.log_level)
    where = f"http://{settings.host}:{settings.port}"
    print(f"VimbisoPay chat server ({settings.app_env}) on {where}", flush=True)
    if settings.is_development:
        docs = f"    API docs: {where}/docs" if settings.serves_docs else ""
        print(f"  chat simulator: {where}/simulator{docs}", flush=True)
        print(f"  webhook app secret: {secret_source}", flush=True)
        sign = f".venv/bin/python -m app.sign --text hi --curl {where}/webhook | sh"
        print(f"  sign a test webhook: {sign}   (or a body: -m app.sign body.json)", flush=True)
    metrics_dir = _multiprocess_metrics(settings.web_concurrency)
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )

    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _multiprocess_metrics(workers: int) -> str | None:
    """With several workers, each scrape must add up all of them: prometheus-client's multiprocess mode,
    which has to be set up before any worker imports it. A fresh directory per start, so no stale counts."""
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    directory = tempfile.mkdtemp(prefix="vimbiso-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


if __name__ == "__main__":
    main()
