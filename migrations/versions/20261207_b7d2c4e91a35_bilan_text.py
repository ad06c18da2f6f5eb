"""bilan text

``bilan_text``: the four free-text sections (contexte, faits marquants, difficultés,
perspectives) of a project's yearly bilan (app/evaluation/models_bilan.py), one row per
project, year and section, versioned against concurrent edits.

Revision ID: b7d2c4e91a35
Revises: 9f922f24dbc5
Create Date: 2026-12-07 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2c4e91a35'
down_revision = '9f922f24dbc5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bilan_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_bilan_text_year_plausible')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_bilan_text_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bilan_text')),
    sa.UniqueConstraint('project_id', 'year', 'section', name=op.f('uq_bilan_text_project_id_year_section'))
    )
    with op.batch_alter_table('bilan_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bilan_text_project_id'), ['project_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bilan_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bilan_text_project_id'))

    op.drop_table('bilan_text')
