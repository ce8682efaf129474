"""Recorded regimens, and each clinic's OME factor set and high-dose threshold.

Revision ID: 4cd7cdcc85fa
Revises: 4c262b727266
Create Date: 2026-11-28

Existing organisations get the defaults: the FPM Opioids Aware 2020 factor set and 120 mg/day.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4cd7cdcc85fa'
down_revision = '4c262b727266'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('regimens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('benzodiazepine', sa.Boolean(), nullable=False),
    sa.Column('gabapentinoid', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('factor_set', sa.String(length=40), nullable=False),
    sa.Column('factor_set_version', sa.String(length=40), nullable=False),
    sa.Column('formulary_version', sa.String(length=20), nullable=False),
    sa.Column('high_dose_threshold_mg', sa.Numeric(precision=8, scale=3), nullable=False),
    sa.Column('total_ome_mg_per_day', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_ome_mg_per_day IS NULL OR total_ome_mg_per_day >= 0', name=op.f('ck_regimens_ome_not_negative')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_regimens_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_regimens_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regimens'))
    )
    with op.batch_alter_table('regimens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regimens_patient_id'), ['patient_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('factor_set', sa.String(length=40), server_default='fpm-2020', nullable=False))
        batch_op.add_column(sa.Column('high_dose_threshold_mg', sa.Numeric(precision=8, scale=3), server_default='120', nullable=False))



def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('high_dose_threshold_mg')
        batch_op.drop_column('factor_set')

    with op.batch_alter_table('regimens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regimens_patient_id'))

    op.drop_table('regimens')
