"""The messenger-agnostic conversation core."""
