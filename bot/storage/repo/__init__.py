"""Repository functions with intent-named operations; each takes the unit of work's session."""
