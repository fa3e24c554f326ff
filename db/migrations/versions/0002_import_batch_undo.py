"""audit rows name their import batch; a batch can be undone once

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

`auditlog.batch_id` (nullable, indexed) names the import batch that wrote a row, so a batch's
records are found by an index instead of inside the JSON `after` (which keeps its
"import_batch" too). Rows written before this revision are filled from that JSON key, and a
batch's own summary row ("import" on table importbatch) from its row id: the history and the
undo then see old batches whole. `importbatch.undone_at` / `undone_by` record the one undo a
batch may have.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_auditlog_batch_id"), ["batch_id"], unique=False)
    with op.batch_alter_table("importbatch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("undone_by", sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))

    # fill the column for the import rows written before it existed
    if op.get_bind().dialect.name == "sqlite":
        batch = "CAST(json_extract(\"after\", '$.import_batch') AS INTEGER)"
        number = "json_type(\"after\", '$.import_batch') = 'integer'"
    else:  # PostgreSQL (json, not jsonb)
        batch = "CAST(\"after\"->>'import_batch' AS INTEGER)"
        number = "json_typeof(\"after\"->'import_batch') = 'number'"
    op.execute("UPDATE auditlog SET batch_id = CAST(row_id AS INTEGER) WHERE action = 'import' "
               "AND table_name = 'importbatch' AND batch_id IS NULL")
    op.execute(f"UPDATE auditlog SET batch_id = {batch} WHERE action = 'import' "
               f"AND table_name <> 'importbatch' AND batch_id IS NULL AND \"after\" IS NOT NULL "
               f"AND {number}")


def downgrade() -> None:
    with op.batch_alter_table("importbatch", schema=None) as batch_op:
        batch_op.drop_column("undone_by")
        batch_op.drop_column("undone_at")
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditlog_batch_id"))
        batch_op.drop_column("batch_id")
