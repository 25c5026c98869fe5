"""deadline facts: CSP adhesion and contract transmission, ARJLJ last rupture, roll policy

The facts the deadlines of the specifications are counted from or fulfilled by:
- enrolments.csp_adhesion_on (002 II §3, §5) and csp_contract_sent_at (002 II §4);
- purchase_orders.last_contract_rupture_on (002 I §3);
- workshops.information_meeting (002 I §7, annex 11: information meetings only);
- programmes.adhesion_months, ends_with_calendar_year, absences_limit,
  absences_consecutive, unanswered_reminders_limit (002 II §3, 004 §4, 004 Lots 1-4);
- deadline_rules.roll: a due date on a non-working day moves forward, back or stays;
- the « relance sans réponse » contact outcome (attendance no_answer, 004 Lots 2 and 4).

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-06 00:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD_MARKS = ('present', 'excused', 'unexcused')
NEW_MARKS = OLD_MARKS + ('no_answer',)
#: Rules seeded before this revision that do not stay on their day (seeds/deadline_rules.yaml)
ROLL_BACK = ('csp_intermediate_report',)


def _attendance(marks) -> None:
    values = ", ".join(f"'{m}'" for m in marks)
    for table in ('contacts', 'workshop_attendances'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_attendance'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_attendance'),
                                             sa.text(f"attendance IN ({values})"))


def upgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('csp_contract_sent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('csp_adhesion_on', sa.Date(), nullable=True))
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_contract_rupture_on', sa.Date(), nullable=True))
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('information_meeting', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.alter_column('information_meeting', server_default=None)
    # the ARJLJ workshops held so far were its information meetings (the only kind the
    # annex 11 table counted)
    op.execute(sa.text(
        "UPDATE workshops SET information_meeting = :on WHERE programme_id IN "
        "(SELECT id FROM programmes WHERE code = 'ARJLJ')").bindparams(on=True))
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adhesion_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ends_with_calendar_year', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('absences_limit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('absences_consecutive', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('unanswered_reminders_limit', sa.Integer(),
                                      nullable=True))
    with op.batch_alter_table('deadline_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'roll', sa.Enum('forward', 'back', 'stay', name='rollpolicy', native_enum=False,
                            create_constraint=True, length=20),
            nullable=False, server_default='stay'))
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.alter_column('ends_with_calendar_year', server_default=None)
        batch_op.alter_column('absences_consecutive', server_default=None)
    with op.batch_alter_table('deadline_rules', schema=None) as batch_op:
        batch_op.alter_column('roll', server_default=None)
    rules = sa.table('deadline_rules', sa.column('code', sa.String), sa.column('roll', sa.String),
                     sa.column('fulfilled_by', sa.String))
    op.execute(rules.update().where(rules.c.code.in_(ROLL_BACK)).values(roll='back'))
    op.execute(rules.update().where(rules.c.code == 'csp_contract_copy')
               .values(fulfilled_by='enrolments.csp_contract_sent_at'))
    # 004 Lot 3: its exit form is due after the end of the mission (plie_l3_exit_diagnostic,
    # seeded), no longer after the exit
    op.execute(sa.text(
        "UPDATE deadline_rules SET active = :off WHERE code = 'plie_liaison_exit' AND "
        "programme_id IN (SELECT id FROM programmes WHERE code = 'PLIE-L3')"
    ).bindparams(off=False))
    _attendance(NEW_MARKS)


def downgrade():
    op.execute(sa.text("UPDATE contacts SET attendance = 'unexcused' "
                       "WHERE attendance = 'no_answer'"))
    _attendance(OLD_MARKS)
    rules = sa.table('deadline_rules', sa.column('code', sa.String),
                     sa.column('fulfilled_by', sa.String))
    op.execute(rules.update().where(rules.c.code == 'csp_contract_copy')
               .values(fulfilled_by='enrolments.csp_contract_signed_on'))
    with op.batch_alter_table('deadline_rules', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deadline_rules_rollpolicy'), type_='check')
        batch_op.drop_column('roll')
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('unanswered_reminders_limit')
        batch_op.drop_column('absences_consecutive')
        batch_op.drop_column('absences_limit')
        batch_op.drop_column('ends_with_calendar_year')
        batch_op.drop_column('adhesion_months')
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_column('information_meeting')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_column('last_contract_rupture_on')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('csp_adhesion_on')
        batch_op.drop_column('csp_contract_sent_at')
