"""programme figures become rules

The figures of the specifications that no rule read (issue 19 A): why a DEL path closed
at its end had no company internship (001 « Description »), which bilan a PLIE-L4 path
is (004 Lot 4: orientation 12–15 h, compétences 20 h), and the programme figures the
alerts and the « Objectifs du marché » need: the upper hours of a bilan d'orientation,
the hours of a bilan de compétences, whether the group minimum counts a session's
participants (004 Lot 2), the sessions (004 Lot 2: 2) and host structures (004 Lot 3: 15)
a year.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 00:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hours_max', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('skills_bilan_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('group_per_session', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('sessions_min', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host_structures_min', sa.Integer(), nullable=True))
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'bilan_kind',
            sa.Enum('orientation', 'skills', name='bilankind', native_enum=False,
                    create_constraint=True, length=20),
            nullable=True))
        batch_op.add_column(sa.Column('no_internship_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('no_internship_reason')
        batch_op.drop_constraint('bilankind', type_='check')
        batch_op.drop_column('bilan_kind')
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('host_structures_min')
        batch_op.drop_column('sessions_min')
        batch_op.drop_column('group_per_session')
        batch_op.drop_column('skills_bilan_hours')
        batch_op.drop_column('hours_max')
