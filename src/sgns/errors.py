"""The one exception type the CLI turns into a one-line message and exit status 2."""


class SgnsError(ValueError):
    """Bad input or an impossible request: a message meant for the user, not a bug."""
