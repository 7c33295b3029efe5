"""NIK, KK and TOTP secrets encrypted at rest (AES-256-GCM), NIK lookups by keyed hash

The columns widen to hold `<key id>:<base64url(nonce|ciphertext|tag)>`; existing plaintext rows
are encrypted here with the keys from DATA_ENCRYPTION_KEYS / DATA_LOOKUP_KEY (set them before
upgrading). Downgrade decrypts first.

Revision ID: 5c2d9f8e1a37
Revises: 3b7e51c0a2d4
Create Date: 2026-11-22 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from portal.core.crypto import decrypt_existing, encrypt_existing


# revision identifiers, used by Alembic.
revision = '5c2d9f8e1a37'
down_revision = '3b7e51c0a2d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('nik', existing_type=sa.String(length=16), type_=sa.String(length=255), existing_nullable=True)
        batch_op.add_column(sa.Column('nik_hash', sa.String(length=64), nullable=True))
        batch_op.drop_index('ix_users_nik')
        batch_op.create_index(batch_op.f('ix_users_nik_hash'), ['nik_hash'], unique=False)
    with op.batch_alter_table('sadoku_requests', schema=None) as batch_op:
        batch_op.alter_column('subject_nik', existing_type=sa.String(length=16), type_=sa.String(length=255), existing_nullable=True)
        batch_op.alter_column('subject_kk', existing_type=sa.String(length=16), type_=sa.String(length=255), existing_nullable=True)
    encrypt_existing(op.get_bind())


def downgrade():
    decrypt_existing(op.get_bind())
    with op.batch_alter_table('sadoku_requests', schema=None) as batch_op:
        batch_op.alter_column('subject_kk', existing_type=sa.String(length=255), type_=sa.String(length=16), existing_nullable=True)
        batch_op.alter_column('subject_nik', existing_type=sa.String(length=255), type_=sa.String(length=16), existing_nullable=True)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_nik_hash'))
        batch_op.create_index('ix_users_nik', ['nik'], unique=False)
        batch_op.drop_column('nik_hash')
        batch_op.alter_column('nik', existing_type=sa.String(length=255), type_=sa.String(length=16), existing_nullable=True)
