"""Start-up failures the CLI reports as one line, kept in a module that imports nothing heavy (so that
`htxbot ask` does not load the database and web stack just to be able to name them)."""


class StartupError(Exception):
    """The bot cannot start; the message is one line naming the problem (shown without a traceback)."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or does not answer; the message is one line, without passwords."""
