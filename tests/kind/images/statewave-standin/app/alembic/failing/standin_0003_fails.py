"""stand-in 0003 (image tag 1.5.1-failing-migration only): fails on purpose

Revision ID: standin_0003
Revises: standin_0002
"""

from alembic import op

revision = "standin_0003"
down_revision = "standin_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE standin_memories ADD COLUMN standin_0003_marker boolean")
    op.execute(
        "DO $$ BEGIN RAISE EXCEPTION 'stand-in migration standin_0003 fails on purpose "
        "(image 1.5.1-failing-migration)'; END $$"
    )


def downgrade():
    pass
