"""`htxbot broadcast work` for the restart tests and the bench, run as `python -m tests.broadcast_worker`.

Identical to the CLI except that PTB's overall 30 messages/s cap is lifted (see broadcast_support),
so the configured broadcast rate is what paces the run.
"""

from __future__ import annotations

import sys

import bot.channels.telegram as telegram_channel
from bot import cli
from tests.broadcast_support import uncapped_rate_limiter

if __name__ == "__main__":
    telegram_channel.AIORateLimiter = uncapped_rate_limiter  # type: ignore[misc,assignment]
    cli.main(["broadcast", "work", *sys.argv[1:]])
