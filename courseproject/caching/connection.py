"""The process's way to the cache Redis: reads behind a circuit breaker, writes always attempted,
invalidations that failed kept and applied as soon as Redis answers, and Lua scripts run by SHA.

Redis trouble never fails a request. Reads skip Redis while the breaker is open (no socket timeout
piled onto each request while Redis is away), and the outage is logged once per burst. Writes
(write-through, invalidation) are always attempted: a skipped invalidation would leave other
processes serving a stale value. One that fails is kept here and applied by this process as soon
as a read finds Redis answering again (repair.py also hands it to a worker, in case this process
does not live that long).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis import get_redis_connection
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import NoScriptError, RedisError

from courseproject.breaker import CircuitBreaker

logger = logging.getLogger(__name__)

# A new generation: Redis's clock (one clock for every host) in microseconds, plus randomness.
BUMP_GENERATION = """
local now = redis.call('TIME')
redis.call('SET', KEYS[1], now[1] .. string.format('%06d', now[2]) .. '-' .. ARGV[1], 'EX', ARGV[2])
return 1
"""


class RedisGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Redis | None = None
        self.breaker = CircuitBreaker(
            name="Redis",
            open_seconds_setting="CACHE_BREAKER_SECONDS",
            log_interval_setting="CACHE_ERROR_LOG_INTERVAL_SECONDS",
            consequence="serving from DynamoDB",
            logger=logger,
        )
        self._pending_deletes: set[str] = set()
        self._pending_bumps: set[str] = set()
        self._script_shas: dict[str, str] = {}
        # Told the keys of every invalidation this process kept for later and of every one it then
        # applied: Redis cannot tell this process's local copies (local_copies.py) about those.
        self._invalidation_listeners: list[Callable[[set[str]], None]] = []

    def reset(self) -> None:
        with self._lock:
            self._client = None
            self._pending_deletes.clear()
            self._pending_bumps.clear()
            self._script_shas.clear()
        self.breaker.reset()

    def _redis(self) -> Redis:
        client = self._client
        if client is None:
            client = self._client = get_redis_connection("default")
        return client

    def client(self) -> Redis | None:
        """For reads: the Redis client, or None when caching is off or Redis failed a moment ago."""
        if not settings.CACHE_ENABLED or self.breaker.is_open():
            return None
        client = self._redis()
        if self._pending_deletes or self._pending_bumps:
            self._apply_pending(client)
            if self.breaker.is_open():  # still unrepaired: Redis may hold what they should remove
                return None
        return client

    def writer(self, *, even_when_disabled: bool = False) -> Redis | None:
        """For writes: always tried (a skipped invalidation would leave others serving stale values).
        `even_when_disabled`: also with CACHE_ENABLED off, for values whose staleness elsewhere would
        be a security hole (a revoked token's version), should instances disagree on the setting."""
        if not settings.CACHE_ENABLED and not even_when_disabled:
            return None
        return self._redis()

    def limiter(self) -> Redis | None:
        """For rate limits (courseproject/throttling.py): Redis whether or not caching is on, since
        CACHE_ENABLED turns the cache off, not the throttles; None when Redis failed a moment ago."""
        if self.breaker.is_open():
            return None
        return self._redis()

    def failed(self, error: Exception) -> None:
        self.breaker.trip(error)

    def keep_for_later(self, *, deletes: list[str], bumps: list[str]) -> None:
        """Invalidations that did not reach Redis: applied by the next read that finds it answering."""
        with self._lock:
            self._pending_deletes.update(deletes)
            self._pending_bumps.update(bumps)
        self._tell_listeners({*deletes, *bumps})

    def add_invalidation_listener(self, listener: Callable[[set[str]], None]) -> None:
        self._invalidation_listeners.append(listener)

    def _tell_listeners(self, keys: set[str]) -> None:
        for listener in self._invalidation_listeners:
            listener(keys)

    def _apply_pending(self, client: Redis) -> None:
        with self._lock:
            deletes, bumps = set(self._pending_deletes), set(self._pending_bumps)
            self._pending_deletes.clear()
            self._pending_bumps.clear()
        try:
            invalidate(client, delete_keys=sorted(deletes), bump_keys=sorted(bumps))
        except RedisError as error:
            self.keep_for_later(deletes=list(deletes), bumps=list(bumps))
            self.failed(error)
            return
        self._tell_listeners(deletes | bumps)  # a copy refilled meanwhile was read before the repair
        logger.warning("Redis answers again: repaired %d missed cache writes", len(deletes) + len(bumps))

    def run_script(self, target: Redis | Pipeline, source: str, *, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA (loading the script once per process); in a pipeline the call is queued."""
        sha = self._script_shas.get(source)
        if sha is None:
            sha = self._load_script(source)
        try:
            return target.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:  # Redis restarted and forgot it
            self._script_shas.clear()
            return target.evalsha(self._load_script(source), len(keys), *keys, *args)

    def _load_script(self, source: str) -> str:
        sha = self._script_shas[source] = self._redis().script_load(source)
        return sha

    def run_pipeline(self, client: Redis, build: Callable[[Pipeline], None]) -> list[Any]:
        """Build and execute a pipeline; rebuilt once if Redis restarted and forgot our scripts."""
        for attempt in (1, 2):
            pipeline = client.pipeline(transaction=False)
            build(pipeline)
            try:
                return pipeline.execute()
            except NoScriptError:
                self._script_shas.clear()
                if attempt == 2:
                    raise
        return []


gate = RedisGate()


@receiver(setting_changed)
def _reset_on_settings_change(setting: str, **_: Any) -> None:
    if setting in {"CACHES", "CACHE_ENABLED", "REDIS_URL"}:
        gate.reset()


def bump_generation(target: Redis | Pipeline, generation_key: str) -> Any:
    """A new, never reused generation for a family of pages: every page stamped with the old one is stale."""
    return gate.run_script(
        target,
        BUMP_GENERATION,
        keys=[generation_key],
        args=[random.getrandbits(32), settings.CACHE_GENERATION_TTL_SECONDS],
    )


def invalidate(client: Redis, *, delete_keys: list[str], bump_keys: list[str]) -> None:
    """Delete entity keys and bump page generations, in one pipelined round trip."""
    if not delete_keys and not bump_keys:
        return

    def build(pipeline: Pipeline) -> None:
        if delete_keys:
            pipeline.delete(*delete_keys)
        for generation_key in bump_keys:
            bump_generation(pipeline, generation_key)

    gate.run_pipeline(client, build)
