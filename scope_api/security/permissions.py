"""Roles and the permissions each one grants.

Every route declares the permission it needs (``deps.require``); nothing else
decides who may do what, so the role matrix in the tests covers the whole API.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    editor = "editor"
    viewer = "viewer"


READ = frozenset({
    "prompts:read", "golden_sets:read", "executions:read", "runs:read",
    "providers:read", "models:read", "traces:read",
})
WRITE = frozenset({"prompts:write", "golden_sets:write", "executions:write", "runs:write"})
ADMIN = frozenset({"api_keys:manage", "users:manage", "providers:write"})

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.viewer: READ,
    Role.editor: READ | WRITE,
    Role.admin: READ | WRITE | ADMIN,
}


def permissions_for(role: str) -> frozenset[str]:
    """The permissions of ``role``; an unknown role has none."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
