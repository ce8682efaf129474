"""Recorded regimens name the brand of a fentanyl patch that only one brand makes (issue 13 rule 8).

Revision ID: 7c4f2a9e1d63
Revises: 5b8e1d7c3a92
Create Date: 2026-12-02

A regimen line with no brand now uses only the strengths a pharmacy can supply generically, so a fentanyl line
whose rate needs the 37.5 microgram/hour patch can no longer be read without its brand. Every other labelled
fentanyl strength is a whole number (12, 25, 50, 75, 100), and two 37.5 patches make one 75, so such a line is
exactly one whose rate has a half: the patient wears a Mezolar Matrix patch, the only brand that makes it, and
the line says so. Nothing is guessed: no other line is changed.

Downgrading removes every line's brand, which the earlier code refuses as an unknown field.
"""
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c4f2a9e1d63'
down_revision = '5b8e1d7c3a92'
branch_labels = None
depends_on = None

regimens = sa.table('regimens', sa.column('id', sa.Integer()), sa.column('lines', sa.JSON()))


def _rewrite(change):
    connection = op.get_bind()
    for row in connection.execute(sa.select(regimens.c.id, regimens.c.lines)).all():
        lines = [change(dict(line)) for line in row.lines]
        if lines != row.lines:
            connection.execute(regimens.update().where(regimens.c.id == row.id).values(lines=lines))


def _name_mezolar(line):
    rate = line.get('patch_mcg_per_hour')
    if line.get('product') == 'fentanyl-patch-72h' and 'brand' not in line and rate is not None \
            and Decimal(str(rate)) % 1 == Decimal('0.5'):
        line['brand'] = 'Mezolar Matrix'
    return line


def _without_brand(line):
    line.pop('brand', None)
    return line


def upgrade():
    _rewrite(_name_mezolar)


def downgrade():
    _rewrite(_without_brand)
