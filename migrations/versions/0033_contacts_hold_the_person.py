"""each contact holds its path's person

The name search of the contacts list kept the contacts of the paths of the people found
(issue 25 §2): on PostgreSQL, « Garnier » at a million people read its 7 096 people
(14-20 ms), then their 5 589 paths (14-19 ms), then walked the list (8-11 ms): 40 ms of
SQL for a target of 30. With the person on each contact, the paths are not read.

- `contacts.beneficiary_id`, filled from the path, never empty;
- the pair (person, path) names a path: a foreign key to `enrolments (beneficiary_id,
  id)`, whose index becomes unique (the id alone is) — a contact cannot hold another
  person than its path's, and follows the path if it changes person (ON UPDATE CASCADE);
  it replaces the key on the path alone (ON DELETE CASCADE, as before);
- the list's order index holds the person instead of the path: (occurs_at, id,
  beneficiary_id), the same order and deep pages; an index of the person finds the
  contacts of a few people (a rare name) without walking the list, and PostgreSQL is
  told how many people the contacts have (`CONTACTS_PER_PERSON_DISTINCT`).

SQLite rewrites the table to change its keys (a few minutes at a million people).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 14:40:00

"""
import sqlalchemy as sa
from alembic import op

#: PostgreSQL's figure of the people among the contacts, as a share of the contacts (about
#: five contacts per person). Its sample of a million people's 4.2 million contacts, a
#: path's contacts written together, counted 231 232 people for 790 547: a person seemed
#: to have 18 contacts, and the contacts of a rare name (« EL569 », 233 people, 808
#: contacts) were looked for by walking the list (page 5: 57 ms; through the person's
#: index, 4.6 ms). A share follows the table's growth; ANALYZE keeps it.
CONTACTS_PER_PERSON_DISTINCT = -0.2

# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_enrolments_beneficiary_id_id', table_name='enrolments')
    op.create_index('ix_enrolments_beneficiary_id_id', 'enrolments', ['beneficiary_id', 'id'],
                    unique=True)
    op.add_column('contacts', sa.Column('beneficiary_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE contacts SET beneficiary_id = enrolments.beneficiary_id"
                   " FROM enrolments WHERE enrolments.id = contacts.enrolment_id")
    else:
        op.execute("UPDATE contacts SET beneficiary_id = (SELECT beneficiary_id FROM"
                   " enrolments WHERE enrolments.id = contacts.enrolment_id)")
    op.drop_index('ix_contacts_occurs_at_id_enrolment_id', table_name='contacts')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.alter_column('beneficiary_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('fk_contacts_enrolment_id_enrolments', type_='foreignkey')
        batch_op.create_foreign_key('fk_contacts_beneficiary_id_enrolments', 'enrolments',
                                    ['beneficiary_id', 'enrolment_id'],
                                    ['beneficiary_id', 'id'],
                                    onupdate='CASCADE', ondelete='CASCADE')
    op.create_index('ix_contacts_occurs_at_id_beneficiary_id', 'contacts',
                    ['occurs_at', 'id', 'beneficiary_id'], unique=False)
    op.create_index('ix_contacts_beneficiary_id', 'contacts', ['beneficiary_id'],
                    unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE contacts ALTER COLUMN beneficiary_id"
                   f" SET (n_distinct = {CONTACTS_PER_PERSON_DISTINCT})")


def downgrade():
    op.drop_index('ix_contacts_beneficiary_id', table_name='contacts')
    op.drop_index('ix_contacts_occurs_at_id_beneficiary_id', table_name='contacts')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contacts_beneficiary_id_enrolments', type_='foreignkey')
        batch_op.create_foreign_key('fk_contacts_enrolment_id_enrolments', 'enrolments',
                                    ['enrolment_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('beneficiary_id')
    op.create_index('ix_contacts_occurs_at_id_enrolment_id', 'contacts',
                    ['occurs_at', 'id', 'enrolment_id'], unique=False)
    op.drop_index('ix_enrolments_beneficiary_id_id', table_name='enrolments')
    op.create_index('ix_enrolments_beneficiary_id_id', 'enrolments', ['beneficiary_id', 'id'],
                    unique=False)
