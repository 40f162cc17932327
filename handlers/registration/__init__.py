"""Registering a cooperative (HTX) or cooperative group (THT): the flow and its texts."""
