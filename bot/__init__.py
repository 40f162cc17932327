"""htxbot: Trợ lý HTX, a Vietnamese chatbot for the cooperative sector."""

__version__ = "0.1.0"
