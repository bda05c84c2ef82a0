"""Our service as the webhook benchmark runs it: `create_app()` in production mode with the EchoRunner.

    BENCH_REDIS_URL=redis://127.0.0.1:<port>/0 BENCH_APP_SECRET=... BENCH_STUB_URL=http://127.0.0.1:9100 \\
        .venv/bin/python -m uvicorn bench.webhook_app:app --workers 1 --loop uvloop --http httptools

Every message runs a state session on the real Redis (begin and commit Lua scripts, dedupe by message id) and is
answered by one text sent through the CloudApiClient to the stub Graph API at BENCH_STUB_URL. CREDEX_API_URL
points at the stub too (production refuses to start without one), but the EchoRunner never calls credex-core.
"""

from __future__ import annotations

import os

from app.config import Settings
from app.flows.echo import EchoRunner
from app.main import create_app

PHONE_NUMBER_ID = "1122334455667"

settings = Settings(
    app_env="production",
    log_level=os.environ.get("BENCH_LOG_LEVEL", "INFO"),
    redis_url=os.environ["BENCH_REDIS_URL"],  # no default: the benchmark names the Redis it started
    whatsapp_app_secret=os.environ["BENCH_APP_SECRET"],
    whatsapp_verify_token=os.environ.get("BENCH_VERIFY_TOKEN", "bench-verify-token"),
    whatsapp_access_token=os.environ.get("BENCH_STUB_TOKEN", "bench-token"),
    whatsapp_api_url=os.environ["BENCH_STUB_URL"],
    whatsapp_phone_number_id=PHONE_NUMBER_ID,
    # Required in production; never called, since the EchoRunner does not talk to credex-core.
    credex_api_url=os.environ.get("BENCH_CREDEX_URL", "http://127.0.0.1:9"),
    credex_client_api_key="bench-credex-key",
)
app = create_app(settings, runner=EchoRunner())
