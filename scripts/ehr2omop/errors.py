"""Errors a user can cause: printed as one line, exit code 2."""


class UserError(Exception):
    """A problem the user can fix; the message says what, where and what to do."""
