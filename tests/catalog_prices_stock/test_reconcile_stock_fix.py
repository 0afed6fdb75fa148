"""The reconciliation report's stock fix (POST /api/messages/<report>/stock-fix, jobs.stock_fix): a
person confirms the levels a report found differing at a company are wrong in Shopify, and the
stock flow sets them to the ERP's figure, reading each again first: a level raised or lowered by
hand comes back to the ERP's figure, a sale made since the report is never given back, a level the
stock flow wrote after the report began is left out, and the fix's own message says what it did."""

from __future__ import annotations

import pytest
from by_hand import staff_api
from sqlalchemy import select

from jobs import reconcile, stock, stock_fix
from jobs.stock_reread import REREAD_KIND
from jobs.worker import run_worker
from ledger import drift
from ledger.db import session_scope
from ledger.models import AuditEvent, Binding, Message, MessageStatus, Role
from sandbox.consinco import tables as t

from .chain import erp_update, messages
from .test_stock_flow import erp_stock, expected


def _whole_units(catalog, chain, count):
    """`count` whole-unit SKUs (qtd 1, not weighed, controlled, >= 5 to sell) of distinct products."""
    rows = erp_stock(chain, 1)
    found, products = [], set()
    for sku, data in sorted(catalog.items()):
        row, s = rows[sku]
        if data["weighed"] or s.qtd_embalagem != 1 or not row.controlled or expected(row, s) < 5:
            continue
        if data["seq_produto"] not in products:
            products.add(data["seq_produto"])
            found.append((sku, data))
    assert len(found) >= count, "the generated chain has too few whole-unit SKUs"
    return found[:count]


def _report(shop) -> Message:
    reconcile.run(shop.shop_id, stock_sample=1000)
    [report] = messages(shop.shop_id, "reconcile")
    return report


def _differ(report: Message) -> dict[str, dict]:
    [place] = report.response_payload["stock"]["locations"]
    return {row["sku"]: row for row in place["differ"]}


@pytest.fixture
def drifted(chain):
    return drifted_shop(chain)


def drifted_shop(chain):
    """A shop whose stock pass ran, then three levels changed in Shopify alone: one raised by 5, two
    lowered by 3; the report of it."""
    shop = chain.install("conserta", 1, 1, [1])
    catalog = chain.load_catalog(shop, unit_kg="1", priced=True)
    stock.run(shop.shop_id)
    picked = _whole_units(catalog, chain, 3)
    targets = {}
    for (sku, data), by in zip(picked, (5, -3, -3), strict=True):
        targets[sku] = chain.level(shop, data["inventory_item_id"], 1)
        chain.set_level(shop, data["inventory_item_id"], 1, targets[sku] + by)
    return shop, picked, targets, _report(shop)


def test_the_fix_brings_levels_changed_by_hand_back_and_keeps_a_sale_made_since(env, chain, drifted):
    shop, [(raised, r), (lowered, low), (sold, s)], targets, report = drifted
    assert set(_differ(report)) == {raised, lowered, sold}
    # after the report, Shopify sells one more of `sold` under an order the app does not know yet
    chain.set_level(shop, s["inventory_item_id"], 1, targets[sold] - 3 - 1)

    client, auth = staff_api(env, shop, Role.OPERATOR)
    answer = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["enqueued"] is True and body["skus"] == sorted([raised, lowered, sold])
    again = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert again.status_code == 202 and again.get_json()["enqueued"] is False  # under way: not asked twice
    assert again.get_json()["message_id"] == body["message_id"]

    run_worker(burst=True, simple=True, with_scheduler=False)
    assert chain.level(shop, r["inventory_item_id"], 1) == targets[raised]
    assert chain.level(shop, low["inventory_item_id"], 1) == targets[lowered]
    # the drop of 3 the person confirmed comes back; the sale made since does not
    assert chain.level(shop, s["inventory_item_id"], 1) == targets[sold] - 1
    with session_scope() as session:
        fix = session.get(Message, body["message_id"])
        # the API's unit (ledger.drift.stock_fix_unit) is the one the stock flow knows as a fix
        assert fix.flow == "stock" and fix.unit_key == drift.stock_fix_unit(1, report.id)
        assert stock_fix.is_fix(fix.unit_key)
        assert fix.status == MessageStatus.DONE.value, fix.error_text
        assert fix.response_payload["levels_sent"] == 3 and fix.response_payload["left_out"] == {}
        assert fix.response_payload["note"] == "3 level(s) set to the ERP's figure, 0 already at it"
        left = session.scalars(
            select(Binding.erp_id).where(Binding.shop_id == shop.shop_id, Binding.kind == REREAD_KIND)
        ).all()
        assert not [key for key in left if key.endswith(f"|fix:{fix.id}")]  # done with: forgotten
    late = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "already_fixed"  # kept as it was
    said = client.get(f"/api/messages/{body['message_id']}?locale=pt-BR", headers=auth).get_json()
    note = said["response_payload"]["note"]
    assert note == "3 nível(is) ajustado(s) ao estoque do ERP, 0 já estava(m) nele"
    with session_scope() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "stock.fix")).all()
        assert event.target == f"message:{report.id}" and event.after["skus"] == body["skus"]
    again = _report(shop)  # the day's report run again (its Replay): the same message, a newer report
    assert again.id == report.id and set(_differ(again)) == {
        sold
    }  # the unknown sale: one lower, as it should
    # the person knows no sale stands behind that one either: the newer report's fix, the next attempt
    answer = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert answer.status_code == 202 and answer.get_json()["message_id"] == body["message_id"]
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert chain.level(shop, s["inventory_item_id"], 1) == targets[sold]
    with session_scope() as session:
        fix = session.get(Message, body["message_id"])
        assert fix.status == MessageStatus.DONE.value and fix.attempts == 2
        assert fix.response_payload["levels_sent"] == 1 and fix.request_payload["skus"] == [sold]


def test_a_level_the_stock_flow_wrote_after_the_report_is_left_out(env, chain, drifted):
    shop, [(raised, r), (lowered, low), (moved, m)], targets, report = drifted
    # the ERP's figure of `moved` changes: the next pass writes it (keeping the hand-made drop out)
    erp_update(chain, t.mrl_produtoempresa, {"nroempresa": 1, "seqproduto": m["seq_produto"]},
               estqloja=40, estqdeposito=0, estqterceiro=0, qtdreservadavda=0, qtdreservadareceb=0,
               qtdreservadafixa=0, estqsegurancaecommerce=0)  # fmt: skip
    stock.run(shop.shop_id)
    written = chain.level(shop, m["inventory_item_id"], 1)
    assert written == 40 - 3

    client, auth = staff_api(env, shop, Role.OPERATOR)
    answer = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert answer.status_code == 202, answer.get_json()
    run_worker(burst=True, simple=True, with_scheduler=False)
    assert chain.level(shop, r["inventory_item_id"], 1) == targets[raised]
    assert chain.level(shop, low["inventory_item_id"], 1) == targets[lowered]
    assert chain.level(shop, m["inventory_item_id"], 1) == written  # the report's figure is older
    with session_scope() as session:
        fix = session.get(Message, answer.get_json()["message_id"])
        assert fix.status == MessageStatus.DONE.value, fix.error_text
        assert fix.response_payload["levels_sent"] == 2
        assert fix.response_payload["left_out"] == {moved: "written_since"}
        assert fix.response_payload["note"] == (
            "2 level(s) set to the ERP's figure, 0 already at it; left out, written by the stock flow "
            f"after the report began (run the reconciliation again): {moved}"
        )


def test_the_fix_is_refused_with_its_reason(env, chain, drifted):
    shop, _picked, _targets, report = drifted
    viewer, viewer_auth = staff_api(env, shop, Role.VIEWER, user_id="41")
    asked = viewer.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=viewer_auth)
    assert asked.status_code == 403

    client, auth = staff_api(env, shop, Role.OPERATOR)

    def refusal(message_id: int, body: dict) -> tuple[int, str]:
        answer = client.post(f"/api/messages/{message_id}/stock-fix", json=body, headers=auth)
        return answer.status_code, answer.get_json()["error"]["code"]

    assert refusal(report.id, {"nro_empresa": 2}) == (409, "no_stock_drift")  # not mapped: not compared
    assert refusal(report.id, {"nro_empresa": "1"}) == (400, "invalid")
    assert refusal(report.id, {"nro_empresa": 1, "skus": []}) == (400, "invalid")
    [batch] = [m for m in messages(shop.shop_id, "stock") if m.unit_key.startswith("stock:1:")][:1]
    assert refusal(batch.id, {"nro_empresa": 1}) == (409, "not_a_report")
    chain.map_location(shop, 1, 1)  # company 1 ships from another location now
    assert refusal(report.id, {"nro_empresa": 1}) == (409, "location_changed")
    assert not [m for m in messages(shop.shop_id, "stock") if ":fix:" in m.unit_key]  # nothing asked


def test_a_fix_whose_companys_read_the_erp_refuses_fails_saying_so_and_its_retry_sets_the_levels(
    env, chain, drifted, monkeypatch
):
    from erp.client import ErpClient
    from shopify_app import fail_words

    shop, [(raised, r), (lowered, low), (other, o)], targets, _ = drifted
    real = ErpClient.stock
    client, auth, fix_id = _fix_the_erp_refuses(env, drifted, monkeypatch)
    with session_scope() as session:
        fix = session.get(Message, fix_id)
        assert fix.status == MessageStatus.FAILED.value and fix.error_class == "rejected"
        assert fix.error_text.startswith("company 1's stock pass did not finish")
        said = fail_words.reason(fix, "pt-BR")
        assert said is not None and said.startswith("A passagem de estoque da empresa 1 não terminou"), said
    assert chain.level(shop, r["inventory_item_id"], 1) == targets[raised] + 5  # nothing written

    monkeypatch.setattr(ErpClient, "stock", real)  # the ERP reads company 1 again: the person retries
    assert client.post(f"/api/messages/{fix_id}/retry", headers=auth).status_code == 202
    run_worker(burst=True, simple=True, with_scheduler=False)
    for sku, data in ((raised, r), (lowered, low), (other, o)):
        assert chain.level(shop, data["inventory_item_id"], 1) == targets[sku], sku
    with session_scope() as session:
        fix = session.get(Message, fix_id)
        assert fix.status == MessageStatus.DONE.value and fix.response_payload["levels_sent"] == 3


def test_a_fix_that_failed_asked_again_from_the_report_counts_the_persons_correction_once(
    env, chain, drifted, monkeypatch
):
    """Asked again from the report's page (not the message's Retry) the fix is its message's next
    attempt: the first attempt's movements stand, and its SKUs are not noted a second time (the
    level raised by 5 was expected at +10, and 5 units were held back as unknown sales)."""
    from erp.client import ErpClient

    shop, picked, targets, report = drifted
    real = ErpClient.stock
    client, auth, fix_id = _fix_the_erp_refuses(env, drifted, monkeypatch)
    with session_scope() as session:
        assert session.get(Message, fix_id).status == MessageStatus.FAILED.value

    monkeypatch.setattr(ErpClient, "stock", real)
    again = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert again.status_code == 202 and again.get_json()["message_id"] == fix_id, again.get_json()
    run_worker(burst=True, simple=True, with_scheduler=False)
    for sku, data in picked:
        assert chain.level(shop, data["inventory_item_id"], 1) == targets[sku], sku
    with session_scope() as session:
        fix = session.get(Message, fix_id)
        assert fix.status == MessageStatus.DONE.value and fix.attempts == 2
        assert fix.response_payload["levels_sent"] == 3


def _fix_the_erp_refuses(env, drifted, monkeypatch):
    """The report's fix asked of company 1 while the ERP refuses that company's stock read (left
    refusing: the caller puts ErpClient.stock back), worked: (client, auth, the fix's message id)."""
    from erp.client import ErpClient
    from erp.errors import ErpRejected

    shop, _, _, report = drifted

    def refused(self, since, nro_empresa, **kwargs):
        raise ErpRejected("empresa 1 sem acesso", status=422, endpoint="api/v1/Cadastros/ProdutoEstoque")

    monkeypatch.setattr(ErpClient, "stock", refused)
    client, auth = staff_api(env, shop, Role.OPERATOR)
    answer = client.post(f"/api/messages/{report.id}/stock-fix", json={"nro_empresa": 1}, headers=auth)
    assert answer.status_code == 202, answer.get_json()
    run_worker(burst=True, simple=True, with_scheduler=False)
    return client, auth, answer.get_json()["message_id"]
