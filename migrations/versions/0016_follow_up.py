"""abandon reason recorded in its own column

An abandon's reason (001 « raisons de la sortie », 004 exit motives) was written as its
internal code (« loss_of_contact ») in the free-text exit reason, and the ruptures list
showed that code. It now has its own column, read through its French label; the codes
already written move there, and the free-text reason is emptied of them.

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-06 00:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None

#: AbandonReason's values when this revision was written.
REASONS = ('participant_request', 'loss_of_contact', 'unexcused_absences', 'moved', 'health',
           'other')


def upgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'abandon_reason',
            sa.Enum(*REASONS, name='abandonreason', native_enum=False, create_constraint=True,
                    length=20),
            nullable=True))
    enrolments = sa.table('enrolments', sa.column('exit_reason', sa.String),
                          sa.column('abandon_reason', sa.String))
    op.execute(enrolments.update()
               .where(enrolments.c.exit_reason.in_(REASONS))
               .values(abandon_reason=enrolments.c.exit_reason, exit_reason=None))


def downgrade():
    enrolments = sa.table('enrolments', sa.column('exit_reason', sa.String),
                          sa.column('abandon_reason', sa.String))
    op.execute(enrolments.update()
               .where(enrolments.c.abandon_reason.is_not(None))
               .values(exit_reason=enrolments.c.abandon_reason))
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_constraint('abandonreason', type_='check')
        batch_op.drop_column('abandon_reason')
