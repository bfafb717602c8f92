"""The Redis broker transport the workers use: kombu's, with one fix for a broker restart.

When the broker connection drops, Celery 5.7 (`Consumer.on_connection_error_after_connected`)
first calls `connection.collect()`, which closes the channels and then detaches the transport
from the connection (`transport.client = None`), and then `connection.close()`, which closes
the channels again. If the consuming channel had a BRPOP outstanding (the worker had a free
slot: any pool with concurrency above the tasks running) and an unacknowledged message (a
task in flight), its first close stops at the failed BRPOP read, and the second one, trying to
put the message back, builds a Redis pool from the detached transport: an AttributeError,
which Celery takes for an unrecoverable error, and the worker shuts down instead of
reconnecting. (A task acknowledged on that old channel after the reconnect takes the same
path.)

Here a channel whose transport is detached raises a broker connection error instead: the
second close is ignored like any close on a dead connection and the consumer reconnects; a late
acknowledgement is logged as not acknowledged, and the message stays in Redis's unacked set,
handed out again after the visibility timeout (the ingest of a document that is already ready
returns at once: documents/tasks + ingest/pipeline.run).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

TRANSPORT = "app.workers.broker:Transport"
SCHEMES = ("redis", "rediss")  # URLs that kombu serves with kombu.transport.redis.Transport


class Channel(kombu_redis.Channel):
    def _get_pool(self, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed")
        return super()._get_pool(asynchronous=asynchronous)  # type: ignore[no-untyped-call]


class Transport(kombu_redis.Transport):
    Channel = Channel


def transport_for(url: str) -> str | None:
    """The transport for a broker URL: this one for redis:// and rediss://, kombu's own for
    any other scheme (sentinel://, ...)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return TRANSPORT if scheme in SCHEMES else None
