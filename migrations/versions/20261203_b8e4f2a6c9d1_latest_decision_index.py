"""Each plan's latest shared decision from one index (issue 16).

Revision ID: b8e4f2a6c9d1
Revises: a7d3e9c1f5b2
Create Date: 2026-12-03

The GP and pharmacy lists and the step-reminders job ask, for every plan they show, whether its latest shared
decision shares it (plan_id = ? ORDER BY id DESC LIMIT 1). With an index on plan_id alone, PostgreSQL with
stale statistics walked the whole primary key backwards instead (35 ms for the GP patient page at an integrated
care system's size, against 1 ms); an index on (plan_id, id) answers it directly and also serves every lookup by
plan_id, so it replaces the single-column one.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8e4f2a6c9d1'
down_revision = 'a7d3e9c1f5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shared_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_shared_decisions_plan_id_id', ['plan_id', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_shared_decisions_plan_id'))


def downgrade():
    with op.batch_alter_table('shared_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_decisions_plan_id'), ['plan_id'], unique=False)
        batch_op.drop_index('ix_shared_decisions_plan_id_id')
