"""stand-in 0002: a table with a 1536-dimension vector column and an HNSW index

Revision ID: standin_0002
Revises: standin_0001
"""

from alembic import op

revision = "standin_0002"
down_revision = "standin_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE TABLE standin_memories ("
        " id bigserial PRIMARY KEY,"
        " content text NOT NULL,"
        " embedding vector(1536) NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())"
    )
    op.execute("CREATE INDEX standin_memories_embedding_hnsw ON standin_memories USING hnsw (embedding vector_cosine_ops)")


def downgrade():
    op.execute("DROP TABLE standin_memories")
