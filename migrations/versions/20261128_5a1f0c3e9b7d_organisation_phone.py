"""Organisations' phone numbers: the clinic's is the number patients are told to call on their plan.

Revision ID: 5a1f0c3e9b7d
Revises: c2849533e255
Create Date: 2026-11-28

Existing organisations get an empty number; an administrator adds the clinic's before its next plan is issued.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5a1f0c3e9b7d'
down_revision = 'c2849533e255'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=30), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('phone')
