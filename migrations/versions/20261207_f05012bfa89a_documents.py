"""documents

``document``: the papers of a household's file (app/documents). One row per version of a
paper (``previous_id``, ``lineage_id``, ``replaced_at``), soft deleted with a reason; the
bytes live in the document store, named by ``sha256`` (NULL once destroyed by retention).

Revision ID: f05012bfa89a
Revises: a7c3e9f1d205
Create Date: 2026-12-07 12:04:16.245516

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f05012bfa89a'
down_revision = 'a7c3e9f1d205'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('is_tenancy_category', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('document_on', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('link_kind', sa.String(length=30), nullable=True),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('lineage_id', sa.Integer(), nullable=True),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.Column('delete_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(link_kind IS NULL) = (link_id IS NULL)', name=op.f('ck_document_link_kind_and_id_together')),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_document_size_positive')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['user.id'], name=op.f('fk_document_deleted_by_id_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_document_household_id_household'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_id'], ['document.id'], name=op.f('fk_document_previous_id_document')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_document_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index('ix_document_household_current', ['household_id', 'replaced_at', 'deleted_at'], unique=False)
        batch_op.create_index('ix_document_lineage', ['lineage_id'], unique=False)
        batch_op.create_index('ix_document_sha256', ['sha256'], unique=False)



def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_sha256')
        batch_op.drop_index('ix_document_lineage')
        batch_op.drop_index('ix_document_household_current')

    op.drop_table('document')
