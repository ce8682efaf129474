"""Follow-up consultations: mode, duration, dose taken, PEG, SOWS-Gossop, notes and the decision.

Revision ID: cf399f01abdf
Revises: 7b3ae6232f35
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'cf399f01abdf'
down_revision = '7b3ae6232f35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('dose_taken', sa.Text(), nullable=False),
    sa.Column('peg', sa.JSON(), nullable=False),
    sa.Column('sows', sa.JSON(), nullable=False),
    sa.Column('sows_total', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('outcome_detail', sa.Text(), nullable=False),
    sa.Column('plan_version_after', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mode IN ('face_to_face', 'phone', 'video')", name=op.f('ck_follow_ups_mode')),
    sa.CheckConstraint("outcome IN ('continue', 'hold', 'slow', 'go_back', 'stop')", name=op.f('ck_follow_ups_outcome')),
    sa.CheckConstraint('duration_minutes BETWEEN 5 AND 180', name=op.f('ck_follow_ups_duration')),
    sa.CheckConstraint('sows_total BETWEEN 0 AND 30', name=op.f('ck_follow_ups_sows_total')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_follow_ups_plan_id_plans')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_follow_ups_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_plan_id'), ['plan_id'], unique=False)



def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_plan_id'))

    op.drop_table('follow_ups')
