"""order_links: each note's words (`attention_words`: its key and params by the note's slot,
ledger.order_notes), so the Orders page says the note in the merchant's language; a row written
before keeps none and reads as its English text

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:45:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("order_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attention_words", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("order_links", schema=None) as batch_op:
        batch_op.drop_column("attention_words")
