"""bindings: the store and price-list prices remembered with digits under the cent are due on the
next prices pass, decided again on the amounts Shopify gets (jobs.price_map: a price under half a
centavo is no price, not R$ 0.00 for sale; a promotion that rounds to the normal price is none,
not a compare-at equal to the price)

Their ERP rows are behind the watermark and are not read again until they change, so without
this what the earlier rule sent stays. Due, each is decided again from its remembered state: its
digest decides, so only those whose decision changed are sent, once; the others cost no call.
A price whole to the cent (the most of them) decides as before and is not touched.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 09:00:00.000000

"""

from decimal import Decimal, InvalidOperation
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KINDS = ("price", "list_price")  # ledger.bindings PRICE_KIND, LIST_PRICE_KIND at this revision
DUE = "2000-01-01"  # a `recheck_on` before any ERP day: due on the next pass (jobs.prices._due_states)
CENT = Decimal("0.01")


def _under_a_cent(value: Any) -> bool:
    if value is None:
        return False
    try:
        amount = Decimal(str(value))
        return amount != amount.quantize(CENT)
    except (InvalidOperation, ValueError):
        return False


def upgrade() -> None:
    """Upgrade schema."""
    conn = op.get_bind()
    bindings = sa.table(
        "bindings", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("data", sa.JSON)
    )
    rows = conn.execute(sa.select(bindings.c.id, bindings.c.data).where(bindings.c.kind.in_(KINDS)))
    due = [
        {"row_id": row_id, "new_data": {**data, "recheck_on": DUE}}
        for row_id, data in rows
        if isinstance(data, dict)
        and (_under_a_cent(data.get("normal")) or _under_a_cent(data.get("promotional")))
    ]
    if due:
        row = bindings.c.id == sa.bindparam("row_id")
        conn.execute(bindings.update().where(row).values(data=sa.bindparam("new_data")), due)


def downgrade() -> None:
    """Downgrade schema: nothing to undo (a price decided again is what the ERP means)."""
