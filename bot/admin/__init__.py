"""Staff tools for the knowledge loop: actions on the review queue and the web console at /admin."""
