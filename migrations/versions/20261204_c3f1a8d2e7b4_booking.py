"""Booking any appointment (issue 17): a first consultation before any plan exists, and extra reviews.

Revision ID: c3f1a8d2e7b4
Revises: b8e4f2a6c9d1
Create Date: 2026-12-04

A pharmacist books an initial consultation before the patient has a plan, so `appointments.plan_id` may be
empty; and an extra review (a patient who is struggling) is a kind of its own. On SQLite the table is copied
to change the column, which loses its no-double-booking triggers (migration 8d2b6f1a4c3e): they are dropped
first and made again after. On PostgreSQL the exclusion constraint stays as it is.

Downgrading turns extra reviews back into follow-ups and deletes appointments that have no plan (the older
schema cannot hold them).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3f1a8d2e7b4'
down_revision = 'b8e4f2a6c9d1'
branch_labels = None
depends_on = None

HOLDS_TIME = "status IN ('proposed', 'confirmed')"


def upgrade():
    _without_sqlite_triggers(lambda: _alter(nullable=True, kinds="('initial', 'follow_up', 'extra_review')"))


def downgrade():
    op.execute("DELETE FROM appointments WHERE plan_id IS NULL")
    op.execute("UPDATE appointments SET kind = 'follow_up' WHERE kind = 'extra_review'")
    _without_sqlite_triggers(lambda: _alter(nullable=False, kinds="('initial', 'follow_up')"))


def _alter(*, nullable, kinds):
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', f"kind IN {kinds}")
        batch_op.alter_column('plan_id', existing_type=sa.Integer(), nullable=nullable)


def _without_sqlite_triggers(change):
    if op.get_bind().dialect.name == "postgresql":
        change()
        return
    op.execute("DROP TRIGGER appointments_no_double_booking_insert")
    op.execute("DROP TRIGGER appointments_no_double_booking_update")
    change()
    for event, when in (("INSERT", "INSERT"), ("UPDATE", "UPDATE OF pharmacist_id, starts_at, ends_at, status")):
        op.execute(f"""
            CREATE TRIGGER appointments_no_double_booking_{event.lower()} BEFORE {when} ON appointments
            WHEN NEW.{HOLDS_TIME} AND EXISTS (
                SELECT 1 FROM appointments AS other
                WHERE other.pharmacist_id = NEW.pharmacist_id AND other.id IS NOT NEW.id
                  AND other.{HOLDS_TIME} AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)
            BEGIN SELECT RAISE(ABORT, 'ex_appointments_no_double_booking: the pharmacist is already booked'); END""")
