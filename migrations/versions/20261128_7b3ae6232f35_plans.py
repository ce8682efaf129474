"""Tapering plans, their append-only versions and the shared decision.

Revision ID: 7b3ae6232f35
Revises: df3eeaf4f3df
Create Date: 2026-11-28

Only one running (active or paused) plan per patient: a partial unique index. Plan versions refuse UPDATE
and DELETE through triggers, like the audit trail.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7b3ae6232f35'
down_revision = 'df3eeaf4f3df'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'paused', 'completed', 'stopped', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('instalment_days', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('final_ome_mg_per_day', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('outcome_reason', sa.Text(), nullable=False),
    sa.Column('current_version_number', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('instalment_days IN (7, 14, 28)', name=op.f('ck_plans_instalment_days')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_plans_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('uq_plans_one_running_per_patient', ['patient_id'], unique=True, sqlite_where=sa.text("status IN ('active', 'paused')"), postgresql_where=sa.text("status IN ('active', 'paused')"))

    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('schedule', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('starting_ome_mg_per_day', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('factor_set', sa.String(length=40), nullable=False),
    sa.Column('factor_set_version', sa.String(length=40), nullable=False),
    sa.Column('formulary_version', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plan_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_versions_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_plan_versions_plan_id_number')
    )
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_versions_plan_id'), ['plan_id'], unique=False)

    op.create_table('shared_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('what_matters', sa.Text(), nullable=False),
    sa.Column('goals', sa.Text(), nullable=False),
    sa.Column('agreed_pace', sa.Text(), nullable=False),
    sa.Column('prescriber', sa.String(length=20), nullable=False),
    sa.Column('consent_share_with_gp', sa.Boolean(), nullable=False),
    sa.Column('consent_share_with_pharmacy', sa.Boolean(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("prescriber IN ('pharmacist', 'gp')", name=op.f('ck_shared_decisions_prescriber')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_shared_decisions_plan_id_plans')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_shared_decisions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_decisions'))
    )
    with op.batch_alter_table('shared_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_decisions_plan_id'), ['plan_id'], unique=False)

    create_append_only_triggers("plan_versions")


def downgrade():
    drop_append_only_triggers("plan_versions")
    with op.batch_alter_table('shared_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_decisions_plan_id'))

    op.drop_table('shared_decisions')
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_versions_plan_id'))

    op.drop_table('plan_versions')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('uq_plans_one_running_per_patient', sqlite_where=sa.text("status IN ('active', 'paused')"), postgresql_where=sa.text("status IN ('active', 'paused')"))
        batch_op.drop_index(batch_op.f('ix_plans_patient_id'))

    op.drop_table('plans')


def create_append_only_triggers(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only';
            END;
            $$
        """)
        op.execute(f"""CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
                           BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def drop_append_only_triggers(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {table}_no_update_or_delete ON {table}")
        op.execute(f"DROP FUNCTION {table}_append_only()")
    else:
        op.execute(f"DROP TRIGGER {table}_no_update")
        op.execute(f"DROP TRIGGER {table}_no_delete")
