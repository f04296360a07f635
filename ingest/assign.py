"""Which feeds this ingester may poll: Kafka consumer-group assignment on the compacted feeds topic.

Every ingester joins ``group_ingest`` on ``topic_feeds`` and polls only feeds
with ``feed_id % partitions`` in its assigned partitions. When partitions are
revoked, the listener waits for in-flight polls of those feeds to finish before
the group rebalances, so no feed is ever fetched by two ingesters at once. A
dead ingester's partitions move to the others after the session timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from services import bus
from services.settings import Settings

log = logging.getLogger(__name__)


class Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """The partitions this process owns right now."""

    def __init__(self, settings: Settings, drain: Callable[[set[int], int], Awaitable[None]]) -> None:
        self.settings = settings
        self.owned: set[int] = set()
        self.modulus = settings.kafka_partitions
        self.ready = asyncio.Event()
        self._drain = drain
        self.consumer: AIOKafkaConsumer | None = None

    @property
    def shard(self) -> tuple[int, set[int]]:
        return self.modulus, set(self.owned)

    def owns(self, feed_id: int) -> bool:
        return feed_id % self.modulus in self.owned

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        gone = {tp.partition for tp in revoked if tp.topic == self.settings.topic_feeds}
        self.owned -= gone
        if gone:
            log.info("feed partitions revoked", extra={"partitions": sorted(gone)})
            await self._drain(gone, self.modulus)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if self.consumer is not None:
            parts = self.consumer.partitions_for_topic(self.settings.topic_feeds)
            if parts:
                self.modulus = len(parts)
        self.owned = {tp.partition for tp in assigned if tp.topic == self.settings.topic_feeds}
        log.info("feed partitions assigned", extra={"partitions": sorted(self.owned), "modulus": self.modulus})
        self.ready.set()

    async def run(self, stop: asyncio.Event, name: str = "ingest") -> None:
        """Stay in the group until ``stop``: keep polling so the coordinator sees us alive."""
        consumer = bus.consumer(self.settings, group=self.settings.group_ingest, name=name)
        self.consumer = consumer
        async with bus.started(consumer):
            consumer.subscribe([self.settings.topic_feeds], listener=self)
            while not stop.is_set():
                try:
                    await consumer.getmany(timeout_ms=500)
                except KafkaError as exc:
                    log.warning("feed-assignment consumer error", extra={"error": str(exc)})
                    await asyncio.sleep(1)
        self.owned = set()
