"""What the patient can take for pain instead as the opioid comes down (issue 14, item 2), recorded with the
shared decision and printed in the patient's plan.

Revision ID: c4d2e8f1a6b3
Revises: 8a1f5c3e9b27
Create Date: 2026-12-03

Existing decisions get an empty value: their plans keep the general advice to ask the pharmacist. A plain ADD
COLUMN, so that SQLite keeps the table (and nothing else about it) as it is.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4d2e8f1a6b3'
down_revision = '8a1f5c3e9b27'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('shared_decisions', sa.Column('pain_relief', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('shared_decisions', schema=None) as batch_op:
        batch_op.drop_column('pain_relief')
