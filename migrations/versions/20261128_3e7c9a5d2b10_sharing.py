"""Sharing with GP practices and community pharmacies: letters read and acknowledged, supplies against the
dispensing schedule and concerns (both append-only), and concerns on the clinic worklist.

Revision ID: 3e7c9a5d2b10
Revises: 8d2b6f1a4c3e
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3e7c9a5d2b10'
down_revision = '8d2b6f1a4c3e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('concerns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('pharmacy_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('early_or_extra_request', 'withdrawal', 'possible_misuse', 'change_of_pace', 'other')", name=op.f('ck_concerns_kind')),
    sa.ForeignKeyConstraint(['pharmacy_id'], ['organisations.id'], name=op.f('fk_concerns_pharmacy_id_organisations')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_concerns_plan_id_plans')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_concerns_raised_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concerns'))
    )
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concerns_plan_id'), ['plan_id'], unique=False)

    op.create_table('supplies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('instalment', sa.Integer(), nullable=False),
    sa.Column('pharmacy_id', sa.Integer(), nullable=False),
    sa.Column('supplied_on', sa.Date(), nullable=False),
    sa.Column('product', sa.String(length=80), nullable=False),
    sa.Column('strength', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_supplies_quantity_positive')),
    sa.ForeignKeyConstraint(['pharmacy_id'], ['organisations.id'], name=op.f('fk_supplies_pharmacy_id_organisations')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_supplies_plan_id_plans')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_supplies_plan_version_id_plan_versions')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_supplies_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplies'))
    )
    with op.batch_alter_table('supplies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplies_pharmacy_id'), ['pharmacy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplies_plan_id'), ['plan_id'], unique=False)

    op.create_table('letter_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_document_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_by_id', sa.Integer(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_letter_receipts_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_letter_receipts_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['plan_document_id'], ['plan_documents.id'], name=op.f('fk_letter_receipts_plan_document_id_plan_documents')),
    sa.ForeignKeyConstraint(['read_by_id'], ['users.id'], name=op.f('fk_letter_receipts_read_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_receipts')),
    sa.UniqueConstraint('plan_document_id', 'organisation_id', name='uq_letter_receipts_plan_document_id_organisation_id')
    )
    with op.batch_alter_table('letter_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_receipts_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_receipts_plan_document_id'), ['plan_document_id'], unique=False)

    with op.batch_alter_table('worklist_items', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({WORKLIST_KINDS}, 'pharmacy_concern')")
    for table in ("supplies", "concerns"):
        create_append_only_triggers(table)


WORKLIST_KINDS = "'overdue', 'did_not_attend', 'completion_review'"


def downgrade():
    for table in ("supplies", "concerns"):
        drop_append_only_triggers(table)
    op.execute("DELETE FROM worklist_items WHERE kind = 'pharmacy_concern'")
    with op.batch_alter_table('worklist_items', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({WORKLIST_KINDS})")
    with op.batch_alter_table('letter_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_receipts_plan_document_id'))
        batch_op.drop_index(batch_op.f('ix_letter_receipts_organisation_id'))

    op.drop_table('letter_receipts')
    with op.batch_alter_table('supplies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplies_plan_id'))
        batch_op.drop_index(batch_op.f('ix_supplies_pharmacy_id'))

    op.drop_table('supplies')
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concerns_plan_id'))

    op.drop_table('concerns')


def create_append_only_triggers(table):
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
        op.execute(f"DROP TRIGGER {table}_no_update")
        op.execute(f"DROP TRIGGER {table}_no_delete")
