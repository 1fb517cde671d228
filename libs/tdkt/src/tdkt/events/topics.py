"""Topics are created explicitly, each with its dead-letter topic, never by auto-creation."""

from __future__ import annotations

from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int | None = None  # None: the configured default (KAFKA_TOPIC_PARTITIONS)
    compacted: bool = False  # only for entity topics whose events carry the full state

    @property
    def dlq(self) -> str:
        return self.name + DLQ_SUFFIX


def ensure_topics(admin: KafkaAdminClient, specs: list[TopicSpec], default_partitions: int) -> list[str]:
    """Create what is missing (each topic and its `.dlq`); return the names created."""
    existing = set(admin.list_topics())
    replication = min(3, len(admin.describe_cluster()["brokers"]))
    wanted: list[NewTopic] = []
    for spec in specs:
        if spec.name not in existing:
            configs = {"cleanup.policy": "compact"} if spec.compacted else {}
            wanted.append(NewTopic(spec.name, spec.partitions or default_partitions, replication, topic_configs=configs))
        if spec.dlq not in existing:
            # Dead letters are rare and read in order by a person: one partition is enough.
            wanted.append(NewTopic(spec.dlq, 1, replication))
    created = []
    for topic in wanted:
        try:
            admin.create_topics([topic])
            created.append(topic.name)
        except TopicAlreadyExistsError:
            pass  # another process created it in between: that is what we wanted
    if created:
        admin.wait_for_topics(created, timeout_ms=30000)
    return created
