"""Risk assessments: the facts used, the suggested level of support and the level chosen.

Revision ID: df3eeaf4f3df
Revises: 4cd7cdcc85fa
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'df3eeaf4f3df'
down_revision = '4cd7cdcc85fa'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('risk_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('regimen_id', sa.Integer(), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('assessed_by_id', sa.Integer(), nullable=False),
    sa.Column('age_years', sa.Integer(), nullable=False),
    sa.Column('total_ome_mg_per_day', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('high_dose_threshold_mg', sa.Numeric(precision=8, scale=3), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('active_substance_misuse', sa.Boolean(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('suggested_level', sa.Integer(), nullable=False),
    sa.Column('chosen_level', sa.Integer(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('chosen_level = suggested_level OR length(override_reason) > 0', name=op.f('ck_risk_assessments_override_needs_reason')),
    sa.CheckConstraint('suggested_level BETWEEN 1 AND 4 AND chosen_level BETWEEN 1 AND 4', name=op.f('ck_risk_assessments_levels')),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['users.id'], name=op.f('fk_risk_assessments_assessed_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_risk_assessments_patient_id_patients')),
    sa.ForeignKeyConstraint(['regimen_id'], ['regimens.id'], name=op.f('fk_risk_assessments_regimen_id_regimens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessments'))
    )
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_assessments_patient_id'), ['patient_id'], unique=False)



def downgrade():
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_assessments_patient_id'))

    op.drop_table('risk_assessments')
