"""FastAPI dependencies: what a route needs, taken from the app built by create_app().

They are `async def` on purpose: FastAPI runs plain `def` dependencies in its thread pool, a hop per
dependency per request that costs more than the work they do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.flows.engine import Engine
from app.inbox.inbox import Inbox
from app.metrics import Metrics
from app.sender.dead import DeadLetters
from app.state.side_records import SideRecords
from app.state.store import StateStore


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> StateStore:
    store: StateStore = request.app.state.store
    return store


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_inbox(request: Request) -> Inbox:
    inbox: Inbox = request.app.state.inbox
    return inbox


async def get_dead_letters(request: Request) -> DeadLetters:
    dead: DeadLetters = request.app.state.dead_letters
    return dead


async def get_records(request: Request) -> SideRecords:
    records: SideRecords = request.app.state.records
    return records


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[StateStore, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
DeadLettersDep = Annotated[DeadLetters, Depends(get_dead_letters)]
InboxDep = Annotated[Inbox, Depends(get_inbox)]
RecordsDep = Annotated[SideRecords, Depends(get_records)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
