"""The audit trail is append-only by privilege as well as by trigger (issue 15, item 7).

Revision ID: f3c8a2d6b4e9
Revises: e5b2c9d4a1f7
Create Date: 2026-12-03

The first revision's triggers already refuse UPDATE, DELETE and (on PostgreSQL) TRUNCATE of audit_events on
both databases, so no code path can rewrite history by accident. On PostgreSQL this revision also takes the
privileges away: from PUBLIC, and from the role running the migration (CURRENT_USER). A role that owns the
table can grant them back to itself, and could drop the triggers, so in production the application connects
as a role that does not own the tables; docs/security.md gives the GRANT and REVOKE statements. SQLite has no
roles: there the triggers are the whole protection.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c8a2d6b4e9'
down_revision = 'e5b2c9d4a1f7'
branch_labels = None
depends_on = None

PRIVILEGES = "UPDATE, DELETE, TRUNCATE"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE {PRIVILEGES} ON audit_events FROM PUBLIC")
        op.execute(f"REVOKE {PRIVILEGES} ON audit_events FROM CURRENT_USER")


def downgrade():
    # PUBLIC never has these privileges on a new table, so only the migrating role gets them back.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT {PRIVILEGES} ON audit_events TO CURRENT_USER")
