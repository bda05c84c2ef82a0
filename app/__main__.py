"""`python -m app` (what `make run` runs): uvicorn on HOST:PORT, printing where to go."""

from __future__ import annotations

import uvicorn

from app.config import get_settings


def main() -> None:
    settings = get_settings()
    print(f"VimbisoPay chat server ({settings.app_env}) on http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run("app.main:app", host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
