"""Who is making a request, as established from a verified access token."""

from __future__ import annotations

from dataclasses import dataclass

from scope_api.security.permissions import permissions_for


@dataclass(frozen=True)
class Principal:
    subject: str  # "api_key:<id>" or "user:<id>"
    tenant_id: str
    tenant_name: str
    role: str

    @property
    def kind(self) -> str:
        return self.subject.partition(":")[0]

    @property
    def subject_id(self) -> str:
        return self.subject.partition(":")[2]

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_for(self.role)

    def can(self, permission: str) -> bool:
        return permission in self.permissions
