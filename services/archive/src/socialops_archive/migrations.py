"""Apply the package's `migrations/*.sql` in order, once each, recorded in `schema_migrations`."""

from __future__ import annotations

from importlib import resources

import asyncpg

# Any fixed number: only one process applies migrations at a time.
_MIGRATION_LOCK = 6_083_001


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("socialops_archive") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


async def migrate(connection: asyncpg.Connection) -> list[str]:
    """Apply what is missing; returns the names applied now."""
    applied_now: list[str] = []
    await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await connection.fetch("SELECT version FROM schema_migrations")}
        for name, sql in migration_files():
            if name in done:
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", name)
            applied_now.append(name)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
