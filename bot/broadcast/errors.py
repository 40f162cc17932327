"""Delivery outcomes the core's `DeliveryError` family does not yet name.

`DeliveryUncertain` belongs with the others in bot/core/channel.py; it lives here until then so that
channel adapters and the broadcaster can share it.
"""

from __future__ import annotations

from bot.core.channel import DeliveryError


class DeliveryUncertain(DeliveryError):
    """The request may have reached the platform but no answer came (a read timeout, a connection
    dropped after sending): the message may or may not have arrived. Never re-send it blindly."""
