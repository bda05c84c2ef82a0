"""Prometheus scrape endpoint: every worker process's counters added up, and the inbox's gauges."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import MetricsDep, SettingsDep
from app.inbox.observe import inbox_gauges, render

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(m: MetricsDep, settings: SettingsDep, request: Request) -> Response:
    gauges = await inbox_gauges(request.app.state.redis, settings.inbox_partitions)
    return Response(m.render() + render(gauges), media_type=CONTENT_TYPE_LATEST)
