"""Questions and answers over the knowledge base."""
