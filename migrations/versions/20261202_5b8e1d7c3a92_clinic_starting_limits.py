"""A pain clinic's limits for checking a starting regimen (issue 13 rule 1): its paracetamol maximum and the
dose above which a regimen is checked as a likely typing slip (taper.domain.limits).

Revision ID: 5b8e1d7c3a92
Revises: 9f4d2c1b7e60
Create Date: 2026-12-02

Existing clinics get the defaults: 4,000 mg of paracetamol a day, 20 units in one dose, 1,000 mg OME a day.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b8e1d7c3a92'
down_revision = '9f4d2c1b7e60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paracetamol_max_mg_per_day', sa.Integer(), server_default='4000',
                                      nullable=False))
        batch_op.add_column(sa.Column('plausible_units_per_dose', sa.Integer(), server_default='20', nullable=False))
        batch_op.add_column(sa.Column('plausible_ome_mg_per_day', sa.Integer(), server_default='1000',
                                      nullable=False))
        batch_op.create_check_constraint('paracetamol_max_mg_per_day',
                                         'paracetamol_max_mg_per_day BETWEEN 1000 AND 4000')
        batch_op.create_check_constraint('plausible_units_per_dose', 'plausible_units_per_dose BETWEEN 1 AND 59')
        batch_op.create_check_constraint('plausible_ome_mg_per_day', 'plausible_ome_mg_per_day BETWEEN 100 AND 4999')


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        for name in ('plausible_ome_mg_per_day', 'plausible_units_per_dose', 'paracetamol_max_mg_per_day'):
            batch_op.drop_constraint(name, type_='check')
            batch_op.drop_column(name)
