"""Clinical forms: withdrawal items "not assessed", follow-ups from an appointment, the question asked by sex (issue 17).

Revision ID: e7a4c2d9b1f6
Revises: d5e2b9c1f8a3
Create Date: 2026-12-04

- `follow_ups.sows_total` may be empty: a withdrawal item not assessed is stored as null in `sows` (never as 0),
  and when no item was assessed there is no total to give.
- `follow_ups.appointment_id`: the appointment a follow-up was recorded from (marked attended in the same
  transaction); at most one follow-up per appointment.
- `risk_assessments.abuse_history_answer`: the answer to the question the analysis names for women (a history of
  pre-adolescent sexual abuse): yes, no or not applicable (answered "not applicable" without asking for patients
  not recorded as female). Empty for assessments made before the question was recorded on its own.

Downgrading gives unassessed follow-ups a total of 0 (the older schema cannot say "not assessed") and drops the
two new columns.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7a4c2d9b1f6'
down_revision = 'd5e2b9c1f8a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.alter_column('sows_total', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_appointment_id_appointments'), 'appointments',
                                    ['appointment_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_follow_ups_appointment_id'), ['appointment_id'])
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('abuse_history_answer', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint('abuse_history_answer',
                                         "abuse_history_answer IN ('yes', 'no', 'not_applicable')")


def downgrade():
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_constraint('abuse_history_answer', type_='check')
        batch_op.drop_column('abuse_history_answer')
    op.execute("UPDATE follow_ups SET sows_total = 0 WHERE sows_total IS NULL")
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_follow_ups_appointment_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_appointment_id_appointments'), type_='foreignkey')
        batch_op.drop_column('appointment_id')
        batch_op.alter_column('sows_total', existing_type=sa.Integer(), nullable=False)
