"""A pain clinic's lead time from a plan going out to its first step, and appointments moved outside the
pharmacist's sessions with their say-so (extra sessions).

Revision ID: 9f4d2c1b7e60
Revises: 3e7c9a5d2b10
Create Date: 2026-12-02

Existing clinics get the default lead time of 7 days; existing appointments were all placed in sessions or moved
before the check existed, and are marked as not extra.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9f4d2c1b7e60'
down_revision = '3e7c9a5d2b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_lead_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.create_check_constraint('plan_lead_days', 'plan_lead_days BETWEEN 0 AND 28')
    # Not in batch mode: on SQLite that would copy the table and lose its no-double-booking triggers.
    op.add_column('appointments', sa.Column('extra_session', sa.Boolean(), server_default=sa.false(),
                                            nullable=False))


def downgrade():
    op.drop_column('appointments', 'extra_session')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint('plan_lead_days', type_='check')
        batch_op.drop_column('plan_lead_days')
