"""Community pharmacy hand-offs (issue 17, items 2 and 3): supplies corrected by new records, concerns closed
and reopened by the clinic, and plan revisions each pharmacy has seen.

Revision ID: d5e2b9c1f8a3
Revises: c3f1a8d2e7b4
Create Date: 2026-12-04

- `supplies` stays append-only: a correction is a new row naming the row it corrects (`corrects_id`, unique, so
  each row is corrected at most once and the corrections form a chain whose last row counts) with a required
  note. A correction may record 0 (nothing was supplied after all); a first record still may not. SQLite
  rebuilds the table to change its constraints, which drops its triggers, so they are made again.
- `concern_status_changes`: the clinic closing a concern (with a note the pharmacy sees) or reopening it,
  append-only like the concern; a unique (concern, sequence) makes two changes made at once collide.
- `revision_notice_reads`: which pharmacy saw the notice of which plan version, who and when. The notices are
  worked out from the stored plan versions, so nothing else is stored.

Going down deletes the corrections (the corrected rows count again), the status changes and the reads.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5e2b9c1f8a3'
down_revision = 'c3f1a8d2e7b4'
branch_labels = None
depends_on = None


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('supplies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrects_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('correction_note', sa.Text(), server_default='', nullable=False))
        batch_op.drop_constraint('quantity_positive', type_='check')
        batch_op.create_check_constraint('quantity_positive_unless_corrected_to_none',
                                         "quantity > 0 OR (corrects_id IS NOT NULL AND quantity = 0)")
        batch_op.create_check_constraint('correction_note', "corrects_id IS NULL OR correction_note <> ''")
        batch_op.create_unique_constraint(batch_op.f('uq_supplies_corrects_id'), ['corrects_id'])
        batch_op.create_foreign_key(batch_op.f('fk_supplies_corrects_id_supplies'), 'supplies', ['corrects_id'],
                                    ['id'])
    if sqlite:  # the rebuilt table has lost its triggers
        create_append_only_triggers('supplies')

    op.create_table('concern_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status = 'open' OR note <> ''", name=op.f('ck_concern_status_changes_closed_with_note')),
    sa.CheckConstraint("status IN ('closed', 'open')", name=op.f('ck_concern_status_changes_status')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_concern_status_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_concern_status_changes_concern_id_concerns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_status_changes')),
    sa.UniqueConstraint('concern_id', 'sequence', name='uq_concern_status_changes_concern_id_sequence')
    )
    create_append_only_triggers('concern_status_changes')

    op.create_table('revision_notice_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('read_by_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_revision_notice_reads_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_revision_notice_reads_plan_version_id_plan_versions')),
    sa.ForeignKeyConstraint(['read_by_id'], ['users.id'], name=op.f('fk_revision_notice_reads_read_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_notice_reads')),
    sa.UniqueConstraint('plan_version_id', 'organisation_id', name='uq_revision_notice_reads_plan_version_id_organisation_id')
    )
    with op.batch_alter_table('revision_notice_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_notice_reads_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('revision_notice_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_notice_reads_organisation_id'))
    op.drop_table('revision_notice_reads')
    drop_append_only_triggers('concern_status_changes')
    op.drop_table('concern_status_changes')

    drop_append_only_triggers('supplies')
    op.execute("DELETE FROM supplies WHERE corrects_id IS NOT NULL")
    with op.batch_alter_table('supplies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_supplies_corrects_id_supplies'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_supplies_corrects_id'), type_='unique')
        batch_op.drop_constraint('correction_note', type_='check')
        batch_op.drop_constraint('quantity_positive_unless_corrected_to_none', type_='check')
        batch_op.create_check_constraint('quantity_positive', "quantity > 0")
        batch_op.drop_column('correction_note')
        batch_op.drop_column('corrects_id')
    create_append_only_triggers('supplies')


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
