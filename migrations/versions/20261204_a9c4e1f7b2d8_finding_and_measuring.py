"""Finding and measuring (issue 18): cohort imports, practice record lines, invitations.

Revision ID: a9c4e1f7b2d8
Revises: f2b8d6a3c9e1
Create Date: 2026-12-04

- `cohort_mappings`: a clinic's extract column names, one per clinic.
- `cohort_imports`: one uploaded extract, previewed then imported with progress (`rows_done` of `rows_total`).
- `practice_record_lines`: medication lines as a practice recorded them, with the reader's result; unique per
  clinic by `row_key` so that importing the same rows again adds nothing; append-only (triggers as elsewhere).
- `invitation_batches` and `invitations`: invitations sent in a GP practice's name, and the answers.
- `organisations.details_needed`: a GP practice added by an import from its ODS code alone.
- `regimens.source` and `source_date`: a regimen imported from a practice record, dated by its latest issue,
  until a pharmacist confirms it (a new regimen, source "pharmacist"). Existing regimens are the pharmacist's.
  `regimens.recorded_by_id` may be empty for such a regimen when the command line imported it (no one signed
  in); `cohort_imports.uploaded_by_id` likewise. Downgrading fails if such regimens exist.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9c4e1f7b2d8'
down_revision = 'f2b8d6a3c9e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cohort_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('preview', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('previewed', 'importing', 'imported', 'failed')", name=op.f('ck_cohort_imports_status')),
    sa.CheckConstraint('rows_done >= 0 AND rows_done <= rows_total', name=op.f('ck_cohort_imports_rows_done')),
    sa.ForeignKeyConstraint(['clinic_id'], ['organisations.id'], name=op.f('fk_cohort_imports_clinic_id_organisations')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_cohort_imports_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_cohort_imports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_imports'))
    )
    with op.batch_alter_table('cohort_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_imports_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('cohort_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['organisations.id'], name=op.f('fk_cohort_mappings_clinic_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_cohort_mappings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_mappings')),
    sa.UniqueConstraint('clinic_id', name=op.f('uq_cohort_mappings_clinic_id'))
    )
    op.create_table('invitation_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('letters_total', sa.Integer(), nullable=False),
    sa.Column('letters_done', sa.Integer(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('template_version', sa.String(length=20), server_default='', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('rendering', 'ready', 'failed')", name=op.f('ck_invitation_batches_status')),
    sa.CheckConstraint('letters_done >= 0 AND letters_done <= letters_total', name=op.f('ck_invitation_batches_letters_done')),
    sa.ForeignKeyConstraint(['clinic_id'], ['organisations.id'], name=op.f('fk_invitation_batches_clinic_id_organisations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invitation_batches_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_batches'))
    )
    with op.batch_alter_table('invitation_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_batches_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('practice_record_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=64), nullable=False),
    sa.Column('drug', sa.Text(), nullable=False),
    sa.Column('dosage', sa.Text(), nullable=False),
    sa.Column('quantity', sa.String(length=100), nullable=False),
    sa.Column('last_issue_date', sa.Date(), nullable=False),
    sa.Column('first_issue_date', sa.Date(), nullable=True),
    sa.Column('product', sa.String(length=60), nullable=True),
    sa.Column('line', sa.JSON(), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('non_opioid', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['organisations.id'], name=op.f('fk_practice_record_lines_clinic_id_organisations')),
    sa.ForeignKeyConstraint(['import_id'], ['cohort_imports.id'], name=op.f('fk_practice_record_lines_import_id_cohort_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_practice_record_lines_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_record_lines'))
    )
    with op.batch_alter_table('practice_record_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_record_lines_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practice_record_lines_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('uq_practice_record_lines_clinic_row', ['clinic_id', 'row_key'], unique=True)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('gp_practice_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('by_letter', sa.Boolean(), nullable=False),
    sa.Column('by_text', sa.Boolean(), nullable=False),
    sa.Column('needs_contact_details', sa.Boolean(), nullable=False),
    sa.Column('large_print', sa.Boolean(), nullable=False),
    sa.Column('easy_read', sa.Boolean(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.String(length=20), nullable=True),
    sa.Column('answer_note', sa.Text(), server_default='', nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("answer IS NULL OR answer IN ('accepted', 'declined')", name=op.f('ck_invitations_answer')),
    sa.CheckConstraint('(answer IS NULL) = (answered_at IS NULL)', name=op.f('ck_invitations_answered')),
    sa.CheckConstraint('by_letter OR by_text OR needs_contact_details', name=op.f('ck_invitations_some_way')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_invitations_answered_by_id_users')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_invitations_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['batch_id'], ['invitation_batches.id'], name=op.f('fk_invitations_batch_id_invitation_batches')),
    sa.ForeignKeyConstraint(['clinic_id'], ['organisations.id'], name=op.f('fk_invitations_clinic_id_organisations')),
    sa.ForeignKeyConstraint(['gp_practice_id'], ['organisations.id'], name=op.f('fk_invitations_gp_practice_id_organisations')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_invitations_message_id_messages')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_invitations_patient_id_patients')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_invitations_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_patient_id'), ['patient_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details_needed', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('regimens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='pharmacist', nullable=False))
        batch_op.add_column(sa.Column('source_date', sa.Date(), nullable=True))
        batch_op.create_check_constraint('source', "source IN ('pharmacist', 'practice_record')")
        batch_op.create_check_constraint('practice_record_dated', "source = 'pharmacist' OR source_date IS NOT NULL")
        batch_op.alter_column('recorded_by_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('recorded_by_pharmacist',
                                         "source = 'practice_record' OR recorded_by_id IS NOT NULL")
    create_append_only_triggers('practice_record_lines')



def downgrade():
    drop_append_only_triggers('practice_record_lines')
    with op.batch_alter_table('regimens', schema=None) as batch_op:
        batch_op.drop_constraint('recorded_by_pharmacist', type_='check')
        batch_op.alter_column('recorded_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('practice_record_dated', type_='check')
        batch_op.drop_constraint('source', type_='check')
        batch_op.drop_column('source_date')
        batch_op.drop_column('source')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('details_needed')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_patient_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_batch_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('practice_record_lines', schema=None) as batch_op:
        batch_op.drop_index('uq_practice_record_lines_clinic_row')
        batch_op.drop_index(batch_op.f('ix_practice_record_lines_patient_id'))
        batch_op.drop_index(batch_op.f('ix_practice_record_lines_import_id'))

    op.drop_table('practice_record_lines')
    with op.batch_alter_table('invitation_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_batches_clinic_id'))

    op.drop_table('invitation_batches')
    op.drop_table('cohort_mappings')
    with op.batch_alter_table('cohort_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_imports_clinic_id'))

    op.drop_table('cohort_imports')


def create_append_only_triggers(table):
    """As the sharing revision (3e7c9a5d2b10) makes them: UPDATE and DELETE refused by the database."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only';
            END;
            $$
        """)
        op.execute(f"""CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
                           BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def drop_append_only_triggers(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {table}_no_update_or_delete ON {table}")
        op.execute(f"DROP FUNCTION {table}_append_only()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
