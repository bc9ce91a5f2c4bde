"""The root of the SDK's exception tree (drawn in :mod:`scope_lab.errors`).

It lives alone so that the template package can subclass it without importing the
rest of the error module.
"""


class ScopeError(Exception):
    """Base class of every error the SDK raises."""
