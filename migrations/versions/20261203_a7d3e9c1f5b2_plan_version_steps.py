"""Each plan version's steps in a table of their own, indexed by the day they start (issue 16).

Revision ID: a7d3e9c1f5b2
Revises: f3c8a2d6b4e9
Create Date: 2026-12-03

The home page and the scheduler's jobs ask "whose step starts on this day?" and "when did this plan's first
(or last) step start?" for every running plan. Answering from the schedule JSON meant loading every version of
every plan; `plan_version_steps` answers in one indexed query. A step's number, first and last day and daily
OME are copied from the version's stored schedule document, which stays the record (the copy is append-only,
like the version: the same triggers). Existing versions are copied here, a thousand at a time.
"""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7d3e9c1f5b2'
down_revision = 'f3c8a2d6b4e9'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    op.create_table('plan_version_steps',
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('ome_mg_per_day', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['plan_version_id'], ['plan_versions.id'], name=op.f('fk_plan_version_steps_plan_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('plan_version_id', 'number', name=op.f('pk_plan_version_steps'))
    )
    with op.batch_alter_table('plan_version_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_version_steps_starts_on'), ['starts_on'], unique=False)
    _copy_existing_steps()
    create_append_only_triggers("plan_version_steps")


def downgrade():
    drop_append_only_triggers("plan_version_steps")
    with op.batch_alter_table('plan_version_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_version_steps_starts_on'))
    op.drop_table('plan_version_steps')


def _copy_existing_steps():
    """Every stored version's steps, read from its schedule document (as taper.services.plan_steps writes them)."""
    versions = sa.table("plan_versions", sa.column("id", sa.Integer()), sa.column("schedule", sa.JSON()))
    steps = sa.table("plan_version_steps", sa.column("plan_version_id", sa.Integer()),
                     sa.column("number", sa.Integer()), sa.column("starts_on", sa.Date()),
                     sa.column("ends_on", sa.Date()), sa.column("ome_mg_per_day", sa.Numeric(10, 3)))
    connection = op.get_bind()
    after = 0
    while True:
        batch = connection.execute(sa.select(versions.c.id, versions.c.schedule).where(versions.c.id > after)
                                   .order_by(versions.c.id).limit(BATCH)).all()
        if not batch:
            return
        rows = [{"plan_version_id": version_id, "number": step["number"],
                 "starts_on": _day(step["starts_on"]), "ends_on": _day(step["ends_on"]),
                 "ome_mg_per_day": Decimal(str(step["ome_mg_per_day"]))}
                for version_id, schedule in batch for step in schedule["steps"]]
        if rows:
            connection.execute(steps.insert(), rows)
        after = batch[-1].id


def _day(text):
    return date.fromisoformat(text) if text else None


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
