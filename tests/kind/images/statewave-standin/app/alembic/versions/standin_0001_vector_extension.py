"""stand-in 0001: the vector extension (Statewave needs pgvector >= 0.5.0)

Revision ID: standin_0001
Revises:
"""

from alembic import op

revision = "standin_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")


def downgrade():
    pass
