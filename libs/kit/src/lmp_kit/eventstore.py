"""The event-store environment of a service, for the eventsourcing library."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from lmp_kit.settings import Settings, SettingsError


def sqlite_file_name(service: str) -> str:
    """The file of a service's embedded event store in its data dir (also `lmp backup`'s)."""
    return f"{service}.events.sqlite"


def event_store_env(settings: Settings) -> dict[str, str]:
    if settings.event_store == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if settings.event_store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / sqlite_file_name(settings.service)),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    ensure_schema(settings.postgres_dsn, settings.postgres_schema)
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **postgres_env(settings)}


def postgres_env(settings: Settings) -> dict[str, str]:
    msg = "POSTGRES_DSN must look like postgresql://user:password@host:5432/database"
    parts = urlsplit(settings.postgres_dsn)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise SettingsError(msg)
    try:
        port = parts.port or 5432
    except ValueError:
        raise SettingsError(msg) from None
    return {
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port),
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
    }


def ensure_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
