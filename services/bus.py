"""The Kafka bus: topic creation, producers and consumers configured one way for every service.

Producers are idempotent (acks=all); consumers never auto-commit: each service
commits only after its work is durable (a produce acknowledged, a row committed).
Clients are started and stopped in ``async with`` blocks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from services.settings import Settings

log = logging.getLogger(__name__)


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """The topics Wirewatch uses and their configs (the feeds topic is compacted)."""
    return {
        settings.topic_raw: {"retention.ms": str(7 * 86_400_000)},
        settings.topic_enriched: {"retention.ms": str(7 * 86_400_000)},
        settings.topic_feeds: {"cleanup.policy": "compact"},
    }


async def ensure_topics(settings: Settings, *, partitions: int | None = None) -> list[str]:
    """Create the Wirewatch topics explicitly (idempotent); returns the names it created."""
    parts = partitions or settings.kafka_partitions
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.kafka_client_id}-admin"
    )
    await admin.start()
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=parts, replication_factor=settings.kafka_replication_factor,
                     topic_configs=cfg)
            for name, cfg in topic_configs(settings).items()
            if name not in existing
        ]
        if wanted:
            with suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
            created = [t.name for t in wanted]
        await _wait_for_metadata(admin, list(topic_configs(settings)))
    finally:
        await admin.close()
    return created


async def _wait_for_metadata(admin: AIOKafkaAdminClient, names: Sequence[str], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        descs = await admin.describe_topics(list(names))
        ok = all(d.get("error_code", 0) == 0 and d.get("partitions") for d in descs)
        if ok:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"topics {names} have no partition leaders after {timeout}s")
        await asyncio.sleep(0.2)


async def ping(settings: Settings, timeout: float = 5.0) -> bool:
    """True when the broker answers a metadata request (for /readyz)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-ping",
        request_timeout_ms=int(timeout * 1000),
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()


@dataclass(frozen=True)
class LagRow:
    """How far one consumer group is behind on one partition (committed None: the group never committed)."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int


async def consumer_lag(settings: Settings, *, groups: Mapping[str, str]) -> list[LagRow]:
    """Lag of each group (group -> the topic it reads) on every partition of its topic: the end offset (last
    stable, so transaction markers don't count) minus the committed offset, else minus the earliest offset."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap,
                                client_id=f"{settings.kafka_client_id}-dashboard-admin")
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                              isolation_level="read_committed",
                              client_id=f"{settings.kafka_client_id}-dashboard-lag")
    try:
        await admin.start()
        await reader.start()
        described = await admin.describe_topics(sorted(set(groups.values())))
        tps = [TopicPartition(d["topic"], p["partition"]) for d in described if not d.get("error_code")
               for p in sorted(d.get("partitions") or [], key=lambda p: p["partition"])]
        ends = await reader.end_offsets(tps) if tps else {}
        starts = await reader.beginning_offsets(tps) if tps else {}
        rows: list[LagRow] = []
        for group, topic in groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            for tp in (tp for tp in tps if tp.topic == topic):
                meta = committed.get(tp)
                pos = meta.offset if meta is not None and meta.offset >= 0 else None
                base = pos if pos is not None else starts.get(tp, 0)
                rows.append(LagRow(group, topic, tp.partition, pos, ends[tp], max(ends[tp] - base, 0)))
        return rows
    finally:
        await reader.stop()
        await admin.close()


def producer(settings: Settings, *, name: str, transactional_id: str | None = None) -> AIOKafkaProducer:
    """An idempotent producer (acks=all); transactional when an id is given."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-{name}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        compression_type=None,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        transactional_id=transactional_id,
    )


def consumer(settings: Settings, *topics: str, group: str, name: str,
             isolation_level: str = "read_committed") -> AIOKafkaConsumer:
    """A group consumer with manual commits that starts from the earliest record of a new group."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-{name}",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level=isolation_level,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        request_timeout_ms=max(settings.kafka_request_timeout_ms, settings.kafka_session_timeout_ms + 5000),
        max_poll_records=settings.kafka_max_batch,
    )


@asynccontextmanager
async def started(client: AIOKafkaProducer | AIOKafkaConsumer) -> AsyncIterator[None]:
    """Start a client and always stop it, whatever happens inside."""
    await client.start()
    try:
        yield
    finally:
        await client.stop()
