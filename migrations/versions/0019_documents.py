"""produced documents and uploaded templates (issue 21 §2, §4)

Each document produced from a record is kept (its .docx, its PDF when converted, the
template version, who and when); each template an administrator uploads is a numbered
row, a row without content putting the shipped template back.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 03:17:14

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=60), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_document_templates_uploaded_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_templates')),
        sa.UniqueConstraint('code', 'number', name=op.f('uq_document_templates_code_number')),
    )
    op.create_table(
        'produced_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind_code', sa.String(length=60), nullable=False),
        sa.Column('subject', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('docx', sa.LargeBinary(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=True),
        sa.Column('template_version', sa.Integer(), nullable=False),
        sa.Column('made_by_id', sa.Integer(), nullable=True),
        sa.Column('made_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'],
                                name=op.f('fk_produced_documents_enrolment_id_enrolments'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['made_by_id'], ['users.id'],
                                name=op.f('fk_produced_documents_made_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_produced_documents')),
    )
    with op.batch_alter_table('produced_documents', schema=None) as batch_op:
        batch_op.create_index('ix_produced_documents_enrolment_made',
                              ['enrolment_id', 'made_at'], unique=False)
        batch_op.create_index('ix_produced_documents_subject', ['subject', 'subject_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('produced_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_produced_documents_subject')
        batch_op.drop_index('ix_produced_documents_enrolment_made')
    op.drop_table('produced_documents')
    op.drop_table('document_templates')
