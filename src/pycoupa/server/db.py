"""Database engines and migrations. SQLite by default, PostgreSQL (psycopg 3) when the URL says so.

URLs are accepted in their plain forms (``sqlite:///file.db``, ``postgresql://user@host/db``)
and given the async driver here, so users never need to know SQLAlchemy's driver names.
Migrations run with a sync engine on the same database (Alembic is synchronous).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).with_name("migrations")


def async_url(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    u = make_url(url)
    if u.drivername.startswith("sqlite"):
        u = u.set(drivername="sqlite+pysqlite")
    elif u.drivername.startswith(("postgresql", "postgres")):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def is_memory_sqlite(url: str) -> bool:
    u = make_url(url)
    return u.drivername.startswith("sqlite") and (not u.database or u.database == ":memory:")


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    if make_url(url).drivername.startswith("sqlite"):
        kwargs: dict[str, object] = {}
        if is_memory_sqlite(url):
            # One shared connection, or every session would see its own empty database.
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        engine = create_async_engine(async_url(url), **kwargs)  # type: ignore[arg-type]
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(async_url(url), pool_size=10, max_overflow=20, pool_pre_ping=True)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(url), revision)


def upgrade_connection(connection: object, revision: str = "head") -> None:
    """Migrate through an existing sync connection (used for in-memory SQLite, where a second
    engine would see a different, empty database)."""
    cfg = alembic_config("sqlite://")
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade_async(engine: AsyncEngine, url: str) -> None:
    if is_memory_sqlite(url):
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_connection)
    else:
        import anyio

        await anyio.to_thread.run_sync(upgrade, url)


__all__ = ["AsyncSession", "Engine", "create_engine", "sessionmaker", "upgrade", "upgrade_async"]
