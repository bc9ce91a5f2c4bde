"""The ``scope`` command: serve, migrate, keys create, simulate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from scope_api.config import Settings, get_settings
from scope_api.db import Database, build_engine
from scope_api.security.permissions import Role


def _database(settings: Settings) -> Database:
    return Database(build_engine(settings.resolved_database_url, pool_size=1))


def bootstrap(settings: Settings) -> str | None:
    """Ensure an admin key exists; return a newly created secret to print, if any."""
    from scope_api.services import api_keys, tenants

    database = _database(settings)
    try:
        with database.unit_of_work() as session:
            if settings.bootstrap_api_key:
                api_keys.ensure_bootstrap(session, settings.bootstrap_api_key)
                return None
            if api_keys.count(session) > 0:
                return None
            tenant = tenants.get_or_create(session, tenants.DEFAULT_TENANT)
            _, secret = api_keys.create(session, tenant_id=tenant.id, name="first admin",
                                        role="admin", created_by="scope serve")
            return secret
    finally:
        database.dispose()


def cmd_migrate(_: argparse.Namespace) -> int:
    from scope_api.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    print(f"database is up to date ({_redacted(settings.resolved_database_url)})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from scope_api.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    secret = bootstrap(settings)
    if secret:
        print("Created the first admin API key for tenant 'default'. It is shown only once:")
        print(f"\n    {secret}\n", flush=True)
    uvicorn.run("scope_api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, loop="uvloop", http="httptools",
                log_level=settings.log_level, proxy_headers=False, server_header=False,
                access_log=not args.no_access_log)
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from scope_api.migrate import upgrade
    from scope_api.services import api_keys, tenants

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    database = _database(settings)
    try:
        with database.unit_of_work() as session:
            tenant = tenants.get_or_create(session, args.tenant)
            key, secret = api_keys.create(session, tenant_id=tenant.id, name=args.name,
                                          role=args.role, created_by="scope keys create")
    finally:
        database.dispose()
    print(f"Created {args.role} API key '{key.name}' ({key.id}) for tenant '{args.tenant}'.")
    print("The secret is shown only once:")
    print(secret)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    import uvicorn

    from scope_api.providers.simulator import create_simulator_app

    app = create_simulator_app(latency_ms=args.latency_ms, seed=args.seed)
    print(f"Simulating the OpenAI, Anthropic and Gemini APIs at "
          f"http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                server_header=False, access_log=False)
    return 0


def cmd_secrets_rotate(args: argparse.Namespace) -> int:
    """Re-encrypt stored provider keys under the first of SCOPE_MASTER_KEYS."""
    from scope_api.migrate import upgrade
    from scope_api.security.crypto import MasterKeyError, SecretBox
    from scope_api.services.providers import rotate_provider_keys

    settings = get_settings()
    try:
        box = SecretBox.from_settings(settings)
    except MasterKeyError as exc:  # names the key id, never key material
        print(f"scope: invalid SCOPE_MASTER_KEYS: {exc}", file=sys.stderr)
        return 2
    upgrade(settings.resolved_database_url)
    database = _database(settings)
    try:
        report = rotate_provider_keys(database, box, batch_size=args.batch_size)
    finally:
        database.dispose()
    for failure in report.failed:
        print(f"scope: cannot re-encrypt {failure}", file=sys.stderr)
    print(report.summary())
    return 0 if report.remaining == 0 else 1


def cmd_secrets_generate_key(args: argparse.Namespace) -> int:
    from scope_api.security.crypto import generate_master_key_spec

    print(generate_master_key_spec(args.kid))
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scope", description="Scope prompt registry")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-access-log", action="store_true",
                       help="do not log one line per request")
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create an API key (and its tenant)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", default="cli")
    create.set_defaults(func=cmd_keys_create)

    secrets_parser = commands.add_parser("secrets", help="manage provider-key encryption")
    secret_commands = secrets_parser.add_subparsers(dest="secrets_command", required=True)
    rotate = secret_commands.add_parser(
        "rotate", help="re-encrypt every stored provider key with the first SCOPE_MASTER_KEYS "
                       "key (idempotent; safe to interrupt and rerun)")
    rotate.add_argument("--batch-size", type=int, default=100)
    rotate.set_defaults(func=cmd_secrets_rotate)
    generate = secret_commands.add_parser(
        "generate-key", help="print a new 'kid:base64key' entry for SCOPE_MASTER_KEYS")
    generate.add_argument("--kid", default=None, help="key id (default: random)")
    generate.set_defaults(func=cmd_secrets_generate_key)

    simulate = commands.add_parser("simulate", help="run the LLM provider simulator alone")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8001)
    simulate.add_argument("--latency-ms", type=float, default=0.0,
                          help="latency added to every completion")
    simulate.add_argument("--seed", type=int, default=0, help="a different seed, other answers")
    simulate.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a CLI prints one line, not a traceback, for operator errors
        if isinstance(exc, ValidationError):
            print(f"scope: invalid configuration: {_describe(exc)}", file=sys.stderr)
            return 2
        raise


def _describe(exc: ValidationError) -> str:
    """Each bad setting by its variable name, on one line, without its value (maybe a secret)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in error["loc"])
        # A field is SCOPE_ and its name, unless it is read under a name of its own.
        name = field.upper() if field.upper().startswith("OTEL_") else f"SCOPE_{field.upper()}"
        problems.append(f"{name}: {error['msg']}" if field else error["msg"])
    return "; ".join(problems)


if __name__ == "__main__":
    sys.exit(main())
