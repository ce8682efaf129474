"""Sign-in protection (issue 15, item 3): consecutive failed sign-ins per email address typed (the progressive
lockout, shared by every worker), and two-factor sign-in: each user's TOTP secret and last accepted time step,
and their hashed single-use recovery codes.

Revision ID: d1a7e3f2b9c4
Revises: c4d2e8f1a6b3
Create Date: 2026-12-03

Existing users have no second factor until they enrol (required at their next sign-in where
TAPER_REQUIRE_TWO_FACTOR is on). The user columns are a plain ADD COLUMN, so that SQLite keeps the table as it is.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd1a7e3f2b9c4'
down_revision = 'c4d2e8f1a6b3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_table('failed_sign_ins',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_failed_sign_ins'))
    )
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_sign_ins_last_failure_at'), ['last_failure_at'], unique=False)
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failed_sign_ins_last_failure_at'))
    op.drop_table('failed_sign_ins')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
