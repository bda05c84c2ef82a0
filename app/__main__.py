"""`python -m app` (what `make run` runs): uvicorn on HOST:PORT, printing where to go."""

from __future__ import annotations

import uvicorn

from app.config import get_settings
from app.logs import configure_logging


def main() -> None:
    settings = get_settings()
    configure_logging(settings.is_development, settings.log_level)
    where = f"http://{settings.host}:{settings.port}"
    print(f"VimbisoPay chat server ({settings.app_env}) on {where}", flush=True)
    if settings.is_development:
        print(f"  chat simulator: {where}/simulator    API docs: {where}/docs", flush=True)
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
