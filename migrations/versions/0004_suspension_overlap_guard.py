"""Database guard: suspensions of one path never overlap (002 §3).

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from backoffice.models import guards

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    for sql in guards.statements(op.get_bind().dialect.name):
        op.execute(sql)


def downgrade():
    for sql in guards.statements(op.get_bind().dialect.name, drop=True):
        op.execute(sql)
