"""the alerts of a coordinator read through indexes in their order

At a million people the coordinator's alerts page took 15 s: its behavioural alerts read
every open path (issue 25 §4). These indexes let them stop early or count from the index:
(programme, status, referent, id) replaces (programme, status), which it covers: a CSP
referent's portfolio and an ARJLJ consultant's load are counted from the index alone, and
a programme's open paths are read in its order (the id written: PostgreSQL does not
order equal keys by it); the open phase records get their id too, for the same reason;
(status, follow-up end) gives the follow-ups past their end, the oldest first; a path's
contacts indexed with their type and length give its individual interviews (PLIE Lots 1
and 4) from the index alone.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 09:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrolments_programme_status_referent', 'enrolments',
                    ['programme_id', 'status', 'referent_id', 'id'], unique=False)
    op.drop_index('ix_enrolments_programme_status', table_name='enrolments')
    op.create_index('ix_enrolments_status_follow_up_end', 'enrolments',
                    ['status', 'follow_up_end_date'], unique=False)
    op.drop_index('ix_contacts_enrolment_occurs_at', table_name='contacts')
    op.create_index('ix_contacts_enrolment_occurs_at', 'contacts',
                    ['enrolment_id', 'occurs_at', 'attendance', 'contact_type_id',
                     'duration_minutes'], unique=False)
    op.drop_index('ix_phase_records_phase_open', table_name='phase_records')
    op.create_index('ix_phase_records_phase_open', 'phase_records',
                    ['phase_id', 'ended_on', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_phase_records_phase_open', table_name='phase_records')
    op.create_index('ix_phase_records_phase_open', 'phase_records', ['phase_id', 'ended_on'],
                    unique=False)
    op.drop_index('ix_contacts_enrolment_occurs_at', table_name='contacts')
    op.create_index('ix_contacts_enrolment_occurs_at', 'contacts',
                    ['enrolment_id', 'occurs_at', 'attendance'], unique=False)
    op.drop_index('ix_enrolments_status_follow_up_end', table_name='enrolments')
    op.create_index('ix_enrolments_programme_status', 'enrolments',
                    ['programme_id', 'status'], unique=False)
    op.drop_index('ix_enrolments_programme_status_referent', table_name='enrolments')
