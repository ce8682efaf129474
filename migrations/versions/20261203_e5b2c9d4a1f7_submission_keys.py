"""One-time submission keys (issue 15, item 4) and work kept across a session's end (item 5).

Revision ID: e5b2c9d4a1f7
Revises: d1a7e3f2b9c4
Create Date: 2026-12-03

`submission_keys` holds the key of each form whose change was made, written in the same transaction as the
change: a repeat finds it and changes nothing, and the unique (user, key) constraint settles two submissions
at the same moment. `kept_work` holds the fields of a form posted after its session ended, for the same user
to check and save after signing in again. Both are new tables that start empty, and their rows live a few hours.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5b2c9d4a1f7'
down_revision = 'd1a7e3f2b9c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('submission_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('result_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submission_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_submission_keys_user_id_key'))
    )
    with op.batch_alter_table('submission_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_keys_created_at'), ['created_at'], unique=False)
    op.create_table('kept_work',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=200), nullable=False),
    sa.Column('page_path', sa.String(length=500), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kept_work_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_work')),
    sa.UniqueConstraint('token', name=op.f('uq_kept_work_token'))
    )
    with op.batch_alter_table('kept_work', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kept_work_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kept_work_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('kept_work', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_work_user_id'))
        batch_op.drop_index(batch_op.f('ix_kept_work_created_at'))
    op.drop_table('kept_work')
    with op.batch_alter_table('submission_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_keys_created_at'))
    op.drop_table('submission_keys')
