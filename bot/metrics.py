"""Prometheus metrics of one bot process, and each channel's liveness (last successful poll or webhook).

One `Metrics` per running application (its own registry, no module-level state). The composition root
(bot/runtime.py) wires it at the edges: around the core's `handle` (messages in and out, answer
latency), around each channel's `send` (proactive sends: broadcast outcomes, 429s, quota), on the
database sessions (questions answered / not answered, as the question log records them), and on the
channels' polls and webhook routes (liveness). Names follow Prometheus conventions (`_total`, `_seconds`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater
from bot.storage.models import QuestionLog

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Answer latency buckets (seconds): a search answer takes milliseconds, a dossier a second or two.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class ChannelLiveness:
    """When a channel last heard from its platform: a successful poll (even an empty one) or webhook call."""

    mode: str  # "polling", "webhook" or "send-only"
    started: float
    last_ok: float | None = None

    def age(self, now: float | None = None) -> float:
        """Seconds since the last successful poll or webhook (since start when there was none yet)."""
        return (now or time.monotonic()) - (self.last_ok or self.started)


class Metrics:
    """The counters of one process, rendered at GET /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.liveness: dict[str, ChannelLiveness] = {}
        r = self.registry
        self.messages_in = Counter("htxbot_messages_in", "Messages and button presses received", ["channel"],
                                   registry=r)
        self.messages_out = Counter("htxbot_messages_out", "Messages sent (replies and proactive)", ["channel"],
                                    registry=r)
        self.questions = Counter("htxbot_questions", "Questions searched in the knowledge base",
                                 ["channel", "outcome"], registry=r)
        self.latency = Histogram("htxbot_answer_latency_seconds", "Time from a message to the bot's replies",
                                 ["channel"], buckets=LATENCY_BUCKETS, registry=r)
        self.sends = Counter("htxbot_proactive_sends", "Proactive sends (announcements, surveys) by outcome",
                             ["channel", "outcome"], registry=r)
        self.rate_limited = Counter("htxbot_rate_limited", "Platform answers 429 / retry later", ["channel"],
                                    registry=r)
        self.quota_hits = Counter("htxbot_quota_exceeded", "Platform refused: the plan's message quota is used up",
                                  ["channel"], registry=r)
        r.register(_LivenessCollector(self.liveness))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    # ---- what the composition root calls --------------------------------------------------------

    def watch_channel(self, channel: str, mode: str) -> ChannelLiveness:
        """Start tracking a channel's liveness; the returned object is beaten on each successful poll."""
        self.liveness[channel] = ChannelLiveness(mode, time.monotonic())
        return self.liveness[channel]

    def beat(self, channel: str) -> None:
        """A successful poll or webhook call on `channel`."""
        live = self.liveness.get(channel)
        if live is not None:
            live.last_ok = time.monotonic()

    def turn(self, channel: str, replies: int, seconds: float) -> None:
        """One handled message: counted in, its replies out, its latency observed."""
        self.messages_in.labels(channel).inc()
        self.messages_out.labels(channel).inc(replies)
        self.latency.labels(channel).observe(seconds)

    def proactive_send(self, channel: str, error: BaseException | None) -> None:
        """The outcome of one proactive send through the core (`App.send` → channel.send)."""
        if error is None:
            self.messages_out.labels(channel).inc()
            outcome = "sent"
        elif isinstance(error, RetryLater):
            self.rate_limited.labels(channel).inc()
            outcome = "retry_later"
        elif isinstance(error, QuotaExceeded):
            self.quota_hits.labels(channel).inc()
            outcome = "quota"
        elif isinstance(error, RecipientBlocked):
            outcome = "blocked"
        else:
            outcome = "failed" if isinstance(error, DeliveryError) else "error"
        self.sends.labels(channel, outcome).inc()

    def watch_questions(self, session_class: type[Session]) -> None:
        """Count questions answered / not answered when their question-log rows are committed.

        `session_class` is one database's own Session class (Database.session_class), so two
        applications in one process never count each other's questions."""
        event.listen(session_class, "before_flush", _remember_questions)
        event.listen(session_class, "after_commit", self._count_questions)
        event.listen(session_class, "after_rollback", lambda session: session.info.pop(_PENDING, None))

    def _count_questions(self, session: Session) -> None:
        for channel, answered in session.info.pop(_PENDING, []):
            self.questions.labels(channel, "answered" if answered else "unanswered").inc()


_PENDING = "htxbot_metrics_questions"


def _remember_questions(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.new:
        if isinstance(obj, QuestionLog):
            session.info.setdefault(_PENDING, []).append((obj.channel, bool(obj.answered)))


class _LivenessCollector(Collector):
    """`htxbot_channel_last_ok_age_seconds{channel,mode}`, computed at scrape time."""

    def __init__(self, liveness: dict[str, ChannelLiveness]) -> None:
        self._liveness = liveness

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("htxbot_channel_last_ok_age_seconds",
                                   "Seconds since the channel's last successful poll or webhook call",
                                   labels=["channel", "mode"])
        now = time.monotonic()
        for name, live in sorted(self._liveness.items()):
            family.add_metric([name, live.mode], round(live.age(now), 3))
        yield family
