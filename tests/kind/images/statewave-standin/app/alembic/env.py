# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alembic environment of the Statewave STAND-IN: every pending migration in one transaction
(as Statewave's own env does), against the database in STATEWAVE_DATABASE_URL."""

from logging.config import fileConfig

from alembic import context

from server import db

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name)

url = db.database_url()
print("stand-in migrations: database %s on %s:%s as %s" % (url.database, url.host, url.port or 5432, url.username),
      flush=True)
with db.engine(timeout=10).connect() as connection:
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
