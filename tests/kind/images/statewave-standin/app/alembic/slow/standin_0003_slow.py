"""stand-in 0003 (image tag 1.5.1-slow-migration only): a migration that takes 15 minutes

It adds a column, then waits 15 minutes with the transaction open, as a long index build would: a
run interrupted meanwhile leaves the Job running, and stopping its pod closes the connection, so
Postgres rolls the whole transaction back (the sleep is in the client: a server-side pg_sleep
would hold the transaction and its lock after the pod is gone).

Revision ID: standin_0003
Revises: standin_0002
"""

import time

from alembic import op

revision = "standin_0003"
down_revision = "standin_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE standin_memories ADD COLUMN standin_0003_slow_marker boolean")
    print("stand-in migration standin_0003 (image 1.5.1-slow-migration) sleeps 900 s in its transaction", flush=True)
    time.sleep(900)


def downgrade():
    pass
