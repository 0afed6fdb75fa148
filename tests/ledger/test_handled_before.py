"""ledger.handled_before: shop/redact keeps, by domain, the orders a person settled outside the app
(the orders message closed as handled, or the link to an ERP order typed by hand), as a domain, an
order id and a time, and nothing else of them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select

from ledger import db, handled, privacy, trace
from ledger.errors import Rejected
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import HandledOrder, OrderLink
from ledger.schema import alembic_config

NOTE = "entered by hand for Maria Silva, maria@example.com, CPF 529.982.247-25"


def _order(session, shop, num: str, *, failed: bool = True):
    message = trace.begin(session, shop.id, "orders", f"order:{num}", SHOPIFY_TO_ERP,
                          shopify_id=f"gid://shopify/Order/{num}")  # fmt: skip
    if failed:
        trace.fail(session, message, Rejected("CPF inválido", system="erp", code="CPF"))
    session.add(OrderLink(shop_id=shop.id, shopify_order_id=f"gid://shopify/Order/{num}",
                          shopify_order_name=f"#{num}"))  # fmt: skip
    session.flush()
    return message


def _kept(session, domain: str) -> dict[str, object]:
    rows = session.scalars(select(HandledOrder).where(HandledOrder.domain == domain))
    return {row.order_id: row.handled_at for row in rows}


def test_the_redact_keeps_the_orders_closed_by_hand_and_no_personal_data(session, shop, other_shop) -> None:
    """Closed as handled (its time the person's), linked by hand to an ERP order with its message
    not closable (skipped: will not be paid), and not the others: sent, failed and left, another
    shop's. Only the domain, the order id and the time are kept."""
    closed = _order(session, shop, "1001")
    handled.mark(session, closed, by="31", note=NOTE)
    hand = _order(session, shop, "1002", failed=False)
    trace.skip(session, hand, "will not be paid")
    linked = session.scalars(select(OrderLink).where(OrderLink.shopify_order_id.endswith("/1002"))).one()
    linked.hand_linked_erp = 0  # linked by a person to an ERP order typed by hand (the first ERP)
    _order(session, shop, "1003")  # failed, never closed: goes once fixed, as any order
    trace.succeed(session, _order(session, shop, "1004", failed=False), erp_id="88")  # in the ERP
    handled.mark(session, _order(session, other_shop, "1005"), by="31", note=NOTE)
    session.commit()
    at = handled.info(closed)["at"]

    counts = privacy.redact_shop(session, shop.domain)
    session.commit()

    assert counts["handled_orders_kept"] == 2
    kept = _kept(session, shop.domain)
    assert set(kept) == {"1001", "1002"} and kept["1001"].isoformat() == at
    assert _kept(session, other_shop.domain) == {}  # the other shop's stays in its own ledger
    assert {c.name for c in HandledOrder.__table__.columns} == {"id", "domain", "order_id", "handled_at"}


def test_a_second_redact_keeps_each_order_once(session, shop) -> None:
    handled.mark(session, _order(session, shop, "1001"), by="31", note=NOTE)
    session.commit()
    privacy.redact_shop(session, shop.domain)
    session.commit()
    again = type(shop)(domain=shop.domain)  # installed again: the order closed again (handled_before.close)
    session.add(again)
    session.flush()
    handled.mark(session, _order(session, again, "1001"), by="31", note=NOTE)
    session.commit()
    counts = privacy.redact_shop(session, shop.domain)
    session.commit()
    assert "handled_orders_kept" not in counts and list(_kept(session, shop.domain)) == ["1001"]


def test_migration_0017_makes_the_table_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = db.get_engine(url)
    columns = {c["name"] for c in inspect(engine).get_columns("handled_orders")}
    assert columns == {"id", "domain", "order_id", "handled_at"}
    command.downgrade(alembic_config(url), "0016")
    assert "handled_orders" not in inspect(db.get_engine(url)).get_table_names()
