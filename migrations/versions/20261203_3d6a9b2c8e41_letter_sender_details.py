"""What a letter's sender block prints (issue 14, item 1): a person's job title and professional registration,
and an organisation's postal address.

Revision ID: 3d6a9b2c8e41
Revises: 7c4f2a9e1d63
Create Date: 2026-12-03

Existing rows get empty values; a plan version's documents are not issued until its author and clinic have them.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3d6a9b2c8e41'
down_revision = '7c4f2a9e1d63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_title', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('registration_body', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('registration_number', sa.String(length=12), server_default='',
                                      nullable=False))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=300), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('address')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for name in ('registration_number', 'registration_body', 'job_title'):
            batch_op.drop_column(name)
