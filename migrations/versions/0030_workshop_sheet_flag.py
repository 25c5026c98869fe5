"""workshops whose attendance sheet has no line, from an index

« Ateliers tenus sans feuille d'émargement » (the coordinator's home) asked each workshop
ever held whether its sheet had a line: 84 378 at a million people, 231 ms on each visit.
`workshops.has_attendance_sheet` is kept by triggers on the sheet's lines
(models/sheet_flag.py) and a partial index holds the workshops without a line
(issue 25 §4).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 09:30:00

"""
import sqlalchemy as sa
from alembic import op

from backoffice.models import sheet_flag

# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workshops') as batch_op:
        batch_op.add_column(sa.Column('has_attendance_sheet', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    bind = op.get_bind()
    bind.execute(sa.text(sheet_flag.FILL))
    op.create_index('ix_workshops_without_sheet', 'workshops', ['held_at'], unique=False,
                    sqlite_where=sa.text('has_attendance_sheet = false'),
                    postgresql_where=sa.text('has_attendance_sheet = false'))
    sheet_flag.create(bind)


def downgrade():
    sheet_flag.drop(op.get_bind())
    op.drop_index('ix_workshops_without_sheet', table_name='workshops',
                  sqlite_where=sa.text('has_attendance_sheet = false'),
                  postgresql_where=sa.text('has_attendance_sheet = false'))
    with op.batch_alter_table('workshops') as batch_op:
        batch_op.drop_column('has_attendance_sheet')
