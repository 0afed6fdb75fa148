"""The page's safeguards on the pt-BR page: an action that cannot be taken back asks first (removing
a staff member's role, sending an order held for fraud to the ERP), a note being typed survives the
message's re-read, and a reconciliation report's day reads as the team writes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import Message, Role, StaffRole
from shopify_app.roles import set_role
from tests.browser.conftest import SHOP_DOMAIN
from tests.browser.ledger_rows import done_message, parked_order, shop_id

pytestmark = pytest.mark.browser


def _staff_id(fresh, handle: str) -> str:
    return str(fresh.shopify.sandbox.shops.staff_member("mercado-teste", handle)["id"]).rsplit("/", 1)[-1]


def test_removing_a_staff_members_role_asks_first(open_page, fresh) -> None:
    """One click on "Remover" takes João's operator role away (and the name typed for him) with no
    confirm, unlike deleting a De:Para line or unlinking an ERP order."""
    page = open_page("/app/audit")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    joao = _staff_id(fresh, "gerente")
    with session_scope(database) as db:
        set_role(db, shop, joao, Role.OPERATOR, actor="test", name="João Santos")
    page.reload()
    roles = page.get_by_test_id("roles")
    row = roles.locator("s-table-row", has_text="João Santos")
    expect(row).to_have_count(1)
    dialogs: list[str] = []

    def dismiss(dialog) -> None:  # the person answers "Cancel"
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    row.locator("s-button", has_text="Remover").click()
    page.wait_for_timeout(1500)
    with session_scope(database) as db:
        kept = db.scalars(
            select(StaffRole.role).where(StaffRole.shop_id == shop, StaffRole.user_id == joao)
        ).one_or_none()
    assert dialogs, f"no confirm before removing the role; the role is now {kept!r}"
    assert kept == "operator"


def test_a_note_being_typed_survives_the_messages_re_read(open_page, fresh) -> None:
    """A parked order's page re-reads it every few seconds; when a run parks it again (attempts + 1),
    the whole page is drawn anew and the "Como foi resolvida?" note being typed is gone."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    mid = parked_order(database, shop, "#1050", "payment_method", "Pix manual")
    page = open_page(f"/app/messages/{mid}")
    field = page.get_by_label("Como foi resolvida?")
    expect(field).to_be_visible()
    typed = "lançado à mão como pedido 9001 do ERP"
    field.fill(typed)
    page.wait_for_timeout(2500)  # a few polls with nothing changed: the note stays
    assert page.get_by_label("Como foi resolvida?").input_value() == typed
    with session_scope(database) as db:  # the next orders catch-up / resume tries it, parked again
        message = trace.begin(db, shop, "orders", "order:#1050", "shopify_to_erp")
        trace.fail(db, message, MappingMissing("payment_method", "Pix manual"))
    expect(page.locator("s-table-row", has_text="Tentativas")).to_contain_text("2")  # the page re-read it
    assert page.get_by_label("Como foi resolvida?").input_value() == typed


def test_a_reconciliation_reports_day_reads_as_dd_mm_aaaa(open_page, fresh) -> None:
    open_page("/app/setup")
    database = fresh.settings.database_url
    done_message(database, shop_id(database, SHOP_DOMAIN), "reconcile", "report:2026-12-05")
    page = open_page("/app/messages", flow="reconcile")
    subject = page.get_by_test_id("message-subject").first
    expect(subject).to_be_visible()
    assert "05/12/2026" in subject.inner_text(), subject.inner_text()


def test_sending_an_order_held_for_fraud_to_the_erp_asks_first(open_page, fresh) -> None:
    """ "Enviar ao ERP mesmo assim" sends an order Shopify recommends cancelling to the ERP, where
    (the page's own words) it is picked and delivered and cannot be taken back: one click, no confirm."""
    open_page("/app/setup")
    database = fresh.settings.database_url
    shop = shop_id(database, SHOP_DOMAIN)
    with session_scope(database) as db:
        m = trace.begin(
            db,
            shop,
            "orders",
            "order:#1060",
            "shopify_to_erp",
            shopify_id="gid://shopify/Order/1060",
            search=["#1060"],
        )
        m.error_text = "held for a fraud review: Shopify recommends cancelling the order"
        m.error_detail = {
            "waiting": "risk",
            "recommendation": "CANCEL",
            "setting": "cancel",
            "assessments": [{"level": "HIGH", "provider": "Shopify", "facts": []}],
        }
        mid = m.id
    page = open_page(f"/app/messages/{mid}")
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_test_id("risk-accept").click()
    page.wait_for_timeout(1500)
    with session_scope(database) as db:
        accepted = (db.get(Message, mid).request_payload or {}).get("risk_accepted")
    assert dialogs, f"no confirm before sending a fraud-held order to the ERP; accepted: {accepted!r}"
