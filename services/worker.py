"""The shell every Kafka consumer worker shares: client lifecycle, health endpoint, heartbeat.

Workers differ only in what they do with a batch; how they start, report health and stop is here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer

from services import bus
from services.db.engine import Sessions
from services.db.heartbeats import heartbeating
from services.health import HealthServer, metrics_url
from services.runtime import instance_id
from services.settings import Settings


@asynccontextmanager
async def consumer_worker(settings: Settings, *, service: str, consumer: AIOKafkaConsumer, sessions: Sessions,
                          stop: asyncio.Event) -> AsyncIterator[None]:
    """Start the consumer, serve /healthz /readyz /metrics (ready = partitions assigned) and heartbeat."""
    async with bus.started(consumer), \
            HealthServer(settings.metrics_port, lambda: bool(consumer.assignment()), host=settings.api_host), \
            heartbeating(sessions, service=service, instance=instance_id(service),
                         metrics_url=metrics_url(settings.api_host, settings.metrics_port),
                         interval=settings.heartbeat_interval_s, stop=stop):
        yield
