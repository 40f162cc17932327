"""Conversation flows. Messenger-agnostic: nothing here imports a channel library."""
