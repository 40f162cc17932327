"""Fake platform servers (Telegram, Zalo) used by end-to-end tests."""
