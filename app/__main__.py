"""`python -m app` (what `make run` runs): uvicorn on HOST:PORT, printing where to go."""

from __future__ import annotations

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
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )


if __name__ == "__main__":
    main()
