"""Plan documents: each version's rendered PDFs, append-only.

Revision ID: c2849533e255
Revises: cf399f01abdf
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2849533e255'
down_revision = 'cf399f01abdf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('template_version', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('patient_plan', 'gp_letter', 'pharmacy_schedule')", name=op.f('ck_plan_documents_kind')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_plan_documents_plan_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_documents')),
    sa.UniqueConstraint('plan_version_id', 'kind', name='uq_plan_documents_plan_version_id_kind')
    )
    with op.batch_alter_table('plan_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_documents_plan_version_id'), ['plan_version_id'], unique=False)

    create_append_only_triggers("plan_documents")


def downgrade():
    drop_append_only_triggers("plan_documents")
    with op.batch_alter_table('plan_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_documents_plan_version_id'))

    op.drop_table('plan_documents')


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
