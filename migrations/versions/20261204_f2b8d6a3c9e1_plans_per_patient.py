"""Plans numbered per patient, and drafts that can be deleted (issue 17, item 5).

Revision ID: f2b8d6a3c9e1
Revises: e7a4c2d9b1f6
Create Date: 2026-12-04

People called a plan by its row id, shared by every patient, so a patient's first plan could be "plan 2".
`plans.number` counts each patient's plans from 1 (unique per patient; the services take the next one), and
existing plans are numbered here in the order they were made (their ids).

A draft that was never started can be deleted; its versions and their steps are append-only (and the audit
log names the plan), so the row stays, marked with who deleted it and when (both or neither), and the services
no longer show it. Its number is not given to another plan.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2b8d6a3c9e1'
down_revision = 'e7a4c2d9b1f6'
branch_labels = None
depends_on = None

RUNNING = "status IN ('active', 'paused')"


def upgrade():
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_by_id', sa.Integer(), nullable=True))
    _number_existing_plans()
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_plans_patient_id_number'), ['patient_id', 'number'])
        batch_op.create_check_constraint('number', 'number >= 1')
        batch_op.create_check_constraint('deleted', '(deleted_at IS NULL) = (deleted_by_id IS NULL)')
        batch_op.create_foreign_key(batch_op.f('fk_plans_deleted_by_id_users'), 'users', ['deleted_by_id'], ['id'])
    _keep_one_running_index()


def downgrade():
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plans_deleted_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint('deleted', type_='check')
        batch_op.drop_constraint('number', type_='check')
        batch_op.drop_constraint(batch_op.f('uq_plans_patient_id_number'), type_='unique')
        batch_op.drop_column('deleted_by_id')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('number')
    _keep_one_running_index()


def _number_existing_plans():
    """1, 2, ... for each patient's plans in the order they were made (SQLite 3.25+ and PostgreSQL)."""
    op.execute("""
        UPDATE plans SET number = (
            SELECT numbered.n FROM (
                SELECT id, ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY id) AS n FROM plans
            ) AS numbered WHERE numbered.id = plans.id)
    """)


def _keep_one_running_index():
    """SQLite's batch mode copies the table; make sure the partial "one running plan" index keeps its WHERE."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS uq_plans_one_running_per_patient")
    op.create_index('uq_plans_one_running_per_patient', 'plans', ['patient_id'], unique=True,
                    sqlite_where=sa.text(RUNNING))
