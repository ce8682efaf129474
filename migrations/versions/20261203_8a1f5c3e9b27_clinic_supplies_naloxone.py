"""Whether a pain clinic gives its patients take-home naloxone (issue 14, item 2): their plans then say what it
is for and when someone should use it.

Revision ID: 8a1f5c3e9b27
Revises: 3d6a9b2c8e41
Create Date: 2026-12-03

Existing clinics are recorded as not supplying it, so no plan mentions a kit the patient was not given.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8a1f5c3e9b27'
down_revision = '3d6a9b2c8e41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplies_naloxone', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('supplies_naloxone')
