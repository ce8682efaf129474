"""Booking and messages: clinic sessions, leave, appointments (no double booking), the outbox, the worklist,
and patients' and organisations' contact details.

Revision ID: 8d2b6f1a4c3e
Revises: 5a1f0c3e9b7d
Create Date: 2026-11-28

A proposed or confirmed appointment holds its pharmacist's time. The database refuses an overlapping one: on
PostgreSQL an exclusion constraint over the time range (btree_gist lets it compare the pharmacist too), which
holds under concurrent transactions; on SQLite triggers, which are enough because SQLite runs one writer at a
time.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8d2b6f1a4c3e'
down_revision = '5a1f0c3e9b7d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinic_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pharmacist_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.Column('remote', sa.Boolean(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('starts < ends', name=op.f('ck_clinic_sessions_starts_before_ends')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_clinic_sessions_weekday')),
    sa.ForeignKeyConstraint(['pharmacist_id'], ['users.id'], name=op.f('fk_clinic_sessions_pharmacist_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_sessions'))
    )
    with op.batch_alter_table('clinic_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_sessions_pharmacist_id'), ['pharmacist_id'], unique=False)

    op.create_table('leave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pharmacist_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('first_day <= last_day', name=op.f('ck_leave_first_day_not_after_last')),
    sa.ForeignKeyConstraint(['pharmacist_id'], ['users.id'], name=op.f('fk_leave_pharmacist_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leave'))
    )
    with op.batch_alter_table('leave', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leave_pharmacist_id'), ['pharmacist_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('to', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('sms', 'email', 'letter', 'app')", name=op.f('ck_messages_channel')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_messages_status')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_messages_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_messages_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_messages_key'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_messages_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('pharmacist_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('length_minutes', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('initial', 'follow_up')", name=op.f('ck_appointments_kind')),
    sa.CheckConstraint("mode IN ('face_to_face', 'phone', 'video')", name=op.f('ck_appointments_mode')),
    sa.CheckConstraint("status IN ('proposed', 'confirmed', 'attended', 'did_not_attend', 'cancelled')", name=op.f('ck_appointments_status')),
    sa.CheckConstraint('length_minutes IN (15, 20, 30, 60, 90)', name=op.f('ck_appointments_length')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_appointments_starts_before_ends')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_appointments_patient_id_patients')),
    sa.ForeignKeyConstraint(['pharmacist_id'], ['users.id'], name=op.f('fk_appointments_pharmacist_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_appointments_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_appointments_pharmacist_id_starts_at', ['pharmacist_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_plan_id'), ['plan_id'], unique=False)

    op.create_table('worklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('overdue', 'did_not_attend', 'completion_review')", name=op.f('ck_worklist_items_kind')),
    sa.ForeignKeyConstraint(['clinic_id'], ['organisations.id'], name=op.f('fk_worklist_items_clinic_id_organisations')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_worklist_items_patient_id_patients')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_worklist_items_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worklist_items')),
    sa.UniqueConstraint('key', name=op.f('uq_worklist_items_key'))
    )
    with op.batch_alter_table('worklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worklist_items_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worklist_items_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worklist_items_plan_id'), ['plan_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), server_default='', nullable=False))

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_by', sa.String(length=10), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('mobile_phone', sa.String(length=30), server_default='', nullable=False))
        batch_op.add_column(sa.Column('email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('postal_address', sa.Text(), server_default='', nullable=False))
        batch_op.create_check_constraint('contact_by', "contact_by IN ('none', 'sms', 'email', 'letter')")

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_every_days', sa.Integer(), server_default='14', nullable=False))
        batch_op.create_check_constraint('review_every_days', "review_every_days IN (7, 14)")

    create_no_double_booking()


def downgrade():
    drop_no_double_booking()
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint('review_every_days', type_='check')
        batch_op.drop_column('review_every_days')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_constraint('contact_by', type_='check')
        batch_op.drop_column('postal_address')
        batch_op.drop_column('email')
        batch_op.drop_column('mobile_phone')
        batch_op.drop_column('contact_by')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('worklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worklist_items_plan_id'))
        batch_op.drop_index(batch_op.f('ix_worklist_items_patient_id'))
        batch_op.drop_index(batch_op.f('ix_worklist_items_clinic_id'))

    op.drop_table('worklist_items')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_plan_id'))
        batch_op.drop_index('ix_appointments_pharmacist_id_starts_at')
        batch_op.drop_index(batch_op.f('ix_appointments_patient_id'))

    op.drop_table('appointments')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_messages_patient_id'))
        batch_op.drop_index(batch_op.f('ix_messages_organisation_id'))

    op.drop_table('messages')
    with op.batch_alter_table('leave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leave_pharmacist_id'))

    op.drop_table('leave')
    with op.batch_alter_table('clinic_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_sessions_pharmacist_id'))

    op.drop_table('clinic_sessions')


HOLDS_TIME = "status IN ('proposed', 'confirmed')"


def create_no_double_booking():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(f"""ALTER TABLE appointments ADD CONSTRAINT ex_appointments_no_double_booking
                       EXCLUDE USING gist (pharmacist_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
                       WHERE ({HOLDS_TIME})""")
        return
    for event, when in (("INSERT", "INSERT"), ("UPDATE", "UPDATE OF pharmacist_id, starts_at, ends_at, status")):
        op.execute(f"""
            CREATE TRIGGER appointments_no_double_booking_{event.lower()} BEFORE {when} ON appointments
            WHEN NEW.{HOLDS_TIME} AND EXISTS (
                SELECT 1 FROM appointments AS other
                WHERE other.pharmacist_id = NEW.pharmacist_id AND other.id IS NOT NEW.id
                  AND other.{HOLDS_TIME} AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)
            BEGIN SELECT RAISE(ABORT, 'ex_appointments_no_double_booking: the pharmacist is already booked'); END""")


def drop_no_double_booking():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE appointments DROP CONSTRAINT ex_appointments_no_double_booking")
    else:
        op.execute("DROP TRIGGER appointments_no_double_booking_insert")
        op.execute("DROP TRIGGER appointments_no_double_booking_update")
