"""Providers, API keys and users as HTML tables (pure; escaped; never a secret)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from scope_lab.models import ApiKey, Provider, User


def providers_html(providers: Sequence[Provider]) -> str:
    """Name, kind, base URL, key hint (never the key), enabled models."""
    if not providers:
        return "<p><em>No providers yet.</em></p>"
    rows = "".join(
        f'<tr data-testid="scope-provider" data-name="{html.escape(p.name)}">'
        f"<td>{html.escape(p.name)}</td><td>{html.escape(p.kind)}</td>"
        f"<td>{html.escape(p.base_url or '')}</td>"
        f"<td>{html.escape(p.api_key_hint or ('set' if p.has_api_key else '—'))}</td>"
        f"<td>{html.escape(', '.join(p.enabled_models) or 'all')}</td></tr>"
        for p in providers)
    return ('<table class="scope-providers-table"><thead><tr><th>name</th><th>kind</th>'
            "<th>base URL</th><th>key</th><th>models</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def keys_html(keys: Sequence[ApiKey]) -> str:
    """Name, role, prefix, last use, revoked."""
    if not keys:
        return "<p><em>No API keys.</em></p>"
    rows = "".join(
        f'<tr data-testid="scope-key" data-id="{html.escape(k.id)}">'
        f"<td>{html.escape(k.name)}</td><td>{html.escape(k.role)}</td>"
        f"<td><code>{html.escape(k.prefix)}…</code></td>"
        f"<td>{'' if k.last_used_at is None else f'{k.last_used_at:%Y-%m-%d %H:%M}'}</td>"
        f"<td>{'revoked' if k.revoked_at else 'active'}</td></tr>"
        for k in keys)
    return ('<table class="scope-keys-table"><thead><tr><th>name</th><th>role</th>'
            "<th>prefix</th><th>last used</th><th>state</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def users_html(users: Sequence[User]) -> str:
    """Email and role."""
    if not users:
        return "<p><em>No users.</em></p>"
    rows = "".join(
        f'<tr data-testid="scope-user" data-id="{html.escape(u.id)}">'
        f"<td>{html.escape(u.email)}</td><td>{html.escape(u.role)}</td></tr>"
        for u in users)
    return ('<table class="scope-users-table"><thead><tr><th>email</th><th>role</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>")
