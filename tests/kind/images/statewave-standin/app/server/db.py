# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database access of the STAND-IN: the DSN from the same environment as Statewave's."""

import os

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


class ConfigError(Exception):
    pass


def database_url():
    """STATEWAVE_DATABASE_URL (alembic also accepts DATABASE_URL, as Statewave's does), with the
    asyncpg driver Statewave requires swapped for psycopg, which the stand-in uses."""
    raw = os.environ.get("STATEWAVE_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not raw:
        raise ConfigError("STATEWAVE_DATABASE_URL is not set")
    try:
        url = make_url(raw)
    except Exception as exc:  # pylint: disable=broad-except
        raise ConfigError("STATEWAVE_DATABASE_URL couldn't be parsed: %s" % type(exc).__name__) from None
    if url.drivername not in ("postgresql+asyncpg", "postgresql", "postgresql+psycopg"):
        raise ConfigError("STATEWAVE_DATABASE_URL must use postgresql+asyncpg://, got %s://" % url.drivername)
    return url.set(drivername="postgresql+psycopg")


def engine(timeout=5):
    return create_engine(database_url(), poolclass=NullPool, connect_args={"connect_timeout": timeout})
