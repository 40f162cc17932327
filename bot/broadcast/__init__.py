"""Durable broadcasts: the paced, restart-safe sender of announcements and survey invitations."""

from bot.broadcast.sender import BroadcastSender, SenderOptions, run_broadcast_worker, start_background_worker

__all__ = ["BroadcastSender", "SenderOptions", "run_broadcast_worker", "start_background_worker"]
