"""The shell every Kafka consumer worker shares: schema, topics, store, consumer, health endpoint, heartbeat.

Workers differ only in what they do with a batch; how they start, report health and stop is here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from services import bus
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.heartbeats import heartbeating
from services.db.migrate import upgrade_async
from services.health import HealthServer, metrics_url
from services.runtime import instance_id
from services.settings import Settings


@dataclass(frozen=True)
class Worker:
    sessions: Sessions
    consumer: AIOKafkaConsumer


@asynccontextmanager
async def consumer_worker(settings: Settings, *, service: str, topic: str, group: str,
                          stop: asyncio.Event) -> AsyncIterator[Worker]:
    """Migrate, create topics, open the store, join ``group`` on ``topic``, serve /healthz /readyz /metrics
    (ready = partitions assigned) and heartbeat until the block ends."""
    await upgrade_async(settings)
    await bus.ensure_topics(settings)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    consumer = bus.consumer(settings, topic, group=group, name=service)
    try:
        async with bus.started(consumer), \
                HealthServer(settings.metrics_port, lambda: bool(consumer.assignment()), host=settings.api_host), \
                heartbeating(sessions, service=service, instance=instance_id(service),
                             metrics_url=metrics_url(settings.api_host, settings.metrics_port),
                             interval=settings.heartbeat_interval_s, stop=stop):
            yield Worker(sessions, consumer)
    finally:
        await engine.dispose()
