"""A SKU whose stock control differs between the company deciding its inventoryPolicy and another
mapped company is named once, for a person (jobs.stock_control).

Shopify keeps one inventoryPolicy per variant; the ERP keeps stock control per company and product,
and the policy follows the deciding company's (jobs.stock._Shop.policy_company). Another mapped
company whose control differs sells at its location under the deciding company's rule, and nothing
said so. Now: one skipped message per SKU and differing company, in the merchant's words, not
repeated by later passes, done once the difference ends; a company with no location is not named;
and the check costs nothing on a pass that reads no turned control (a previous attempt scanned
every stock binding of the shop at the end of every pass)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import delete, event, select

from erp.client import ErpClient
from jobs import stock, stock_control
from ledger import bindings, db
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import LocationMapping, Message, MessageStatus
from sandbox.consinco import tables as t
from shopify_app.skip_words import reason
from shopify_app.stock_words import in_locale

from .chain import erp_update, messages


def _notices(shop_id: int) -> dict[str, Message]:
    return {m.unit_key: m for m in messages(shop_id, "stock") if m.unit_key.startswith("stock:control:")}


def _product(catalog) -> tuple[int, list[str]]:
    """A product of two packagings or more (its stock control is one for all of them), else any."""
    by_product: dict[int, list[str]] = {}
    for sku, data in catalog.items():
        by_product.setdefault(int(data["seq_produto"]), []).append(sku)
    seq = max(by_product, key=lambda s: (len(by_product[s]), -s))
    return seq, sorted(by_product[seq])


def _control(chain, company: int, seq: int, flag: str) -> None:
    erp_update(
        chain, t.mrl_produtoempresa, {"nroempresa": company, "seqproduto": seq}, indcontrolaestoqueecomm=flag
    )


def _installed(chain, name: str):
    """A shop linked to company 1 (it decides the policy), companies 1-3 mapped, 4 not; one pass run."""
    shop = chain.install(name, 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    first = stock.run(shop.shop_id)
    assert first.companies == [1, 2, 3] and first.refused == [4]
    assert _notices(shop.shop_id) == {}  # the seeded chain: every product's control alike
    return shop, catalog


def test_a_difference_is_named_once_per_sku_and_company_and_done_when_it_ends(chain):
    """Company 2 drops stock control of a product that company 1 (deciding) controls, and so does
    company 4, mapped to no location: one message per SKU naming companies 1 and 2 and what it
    means at company 2's location; none for company 4; a second pass adds none; the control made
    equal again, each is done saying so."""
    shop, catalog = _installed(chain, "controle-difere")
    seq, skus = _product(catalog)
    _control(chain, 2, seq, "N")
    _control(chain, 4, seq, "N")
    stock.run(shop.shop_id)
    found = _notices(shop.shop_id)
    assert sorted(found) == [f"stock:control:2:{sku}" for sku in skus]
    for sku in skus:
        notice = found[f"stock:control:2:{sku}"]
        assert notice.status == MessageStatus.SKIPPED.value and notice.error_class is None
        assert notice.erp_id == "2" and notice.attempts == 1
        assert notice.error_detail["skip"] == {
            "key": "stock_control_differs_deny",
            "params": {"sku": sku, "company": 2, "deciding": 1},
        }
        assert notice.request_payload["nro_empresa"] == 2 and notice.request_payload["deciding"] == 1
        en = reason(notice, "en")
        assert en == notice.error_text[0].upper() + notice.error_text[1:]
        assert en.startswith(
            f"Stock control differs: company 1 controls the stock of SKU {sku} in the ERP and company 2 "
            "does not; Shopify keeps one inventoryPolicy per variant, and company 1's stock control "
            "decides it, so at company 2's location too the item stops selling at 0"
        )
        assert reason(notice, "pt-BR").startswith(
            f"O controle de estoque difere: a empresa 1 controla o estoque do SKU {sku} no ERP e a empresa "
            "2 não"
        )
        assert "empresa 4" not in reason(notice, "pt-BR") and "company 4" not in en

    stock.run(shop.shop_id)  # the difference lasts: nothing more said
    again = _notices(shop.shop_id)
    assert sorted(again) == sorted(found)
    assert all(m.status == MessageStatus.SKIPPED.value and m.attempts == 1 for m in again.values())

    _control(chain, 2, seq, "S")  # the same control again: each message is done, saying why
    stock.run(shop.shop_id)
    done = _notices(shop.shop_id)
    assert sorted(done) == sorted(found)
    for sku in skus:
        notice = done[f"stock:control:2:{sku}"]
        assert notice.status == MessageStatus.DONE.value
        assert notice.response_payload["settled_words"] == [
            {"key": "stock_control_same", "params": {"company": 2, "deciding": 1, "sku": sku}}
        ]
        assert in_locale(notice.response_payload, "en")["settled"] == (
            f"Company 2's stock control of SKU {sku} is the same as company 1's again: nothing left to say"
        )
        assert in_locale(notice.response_payload, "pt-BR")["settled"] == (
            f"O controle de estoque do SKU {sku} na empresa 2 voltou a ser igual ao da empresa 1: "
            "nada mais a dizer"
        )
    stock.run(shop.shop_id)
    assert all(m.status == MessageStatus.DONE.value for m in _notices(shop.shop_id).values())


def test_the_deciding_company_dropping_control_names_every_mapped_company_that_keeps_it(chain):
    """Company 1 (deciding) drops stock control: the item sells past 0 everywhere (CONTINUE), and
    companies 2 and 3, which control it, are named for each SKU (4, unmapped, is not)."""
    shop, catalog = _installed(chain, "controle-decide")
    seq, skus = _product(catalog)
    _control(chain, 1, seq, "N")
    assert stock.run(shop.shop_id).policies_sent > 0  # CONTINUE, at every location
    found = _notices(shop.shop_id)
    assert sorted(found) == sorted(f"stock:control:{c}:{sku}" for c in (2, 3) for sku in skus)
    notice = found[f"stock:control:3:{skus[0]}"]
    assert notice.error_detail["skip"]["key"] == "stock_control_differs_continue"
    assert reason(notice, "en").startswith(
        f"Stock control differs: company 1 does not control the stock of SKU {skus[0]} in the ERP and "
        "company 3 does; Shopify keeps one inventoryPolicy per variant, and company 1's stock control "
        "decides it, so the item keeps selling when out of stock at every location, company 3's too"
    )
    stock.run(shop.shop_id)
    assert all(
        m.attempts == 1 and m.status == MessageStatus.SKIPPED.value for m in _notices(shop.shop_id).values()
    )


def test_a_company_unmapped_or_no_longer_deciding_closes_what_named_it(chain):
    """Company 2's location mapping is removed: its messages are done (it sells nothing here). The
    store link moves to company 3: the messages naming company 1 as deciding are done, and company
    3's pass names what differs from its own control."""
    shop, catalog = _installed(chain, "controle-mapa")
    seq, skus = _product(catalog)
    _control(chain, 2, seq, "N")
    _control(chain, 3, seq, "N")
    stock.run(shop.shop_id)
    assert sorted(_notices(shop.shop_id)) == sorted(
        f"stock:control:{c}:{sku}" for c in (2, 3) for sku in skus
    )
    with session_scope() as session:
        session.execute(
            delete(LocationMapping).where(
                LocationMapping.shop_id == shop.shop_id, LocationMapping.nro_empresa == 2
            )
        )
    stock.run(shop.shop_id)
    found = _notices(shop.shop_id)
    for sku in skus:
        unmapped = found[f"stock:control:2:{sku}"]
        assert unmapped.status == MessageStatus.DONE.value
        assert unmapped.response_payload["settled_words"][0]["key"] == "stock_control_unmapped"
        assert found[f"stock:control:3:{sku}"].status == MessageStatus.SKIPPED.value

    with session_scope() as session:
        set_store_link(session, shop.shop_id, 3, 1)
    stock.run(shop.shop_id)
    found = _notices(shop.shop_id)
    for sku in skus:
        was = found[f"stock:control:3:{sku}"]  # named company 1 as deciding: done
        assert was.status == MessageStatus.DONE.value
        assert was.response_payload["settled_words"] == [
            {"key": "stock_control_not_decided", "params": {"was": 1, "now": 3, "sku": sku}}
        ]
        assert in_locale(was.response_payload, "en")["settled"] == (
            f"Company 1 no longer decides whether SKU {sku} sells when out of stock; company 3 does, and its "
            "pass names any difference anew"
        )
        now = found[f"stock:control:1:{sku}"]  # company 3 has no control, company 1 has
        assert now.status == MessageStatus.SKIPPED.value
        assert now.error_detail["skip"] == {
            "key": "stock_control_differs_continue",
            "params": {"sku": sku, "company": 1, "deciding": 3},
        }
    assert not any(k.startswith("stock:control:2:") and m.status != "done" for k, m in found.items())


def test_a_store_synced_before_the_check_names_what_differs_once(chain, monkeypatch):
    """A store whose passes ran before this check existed (its policy marker without the check's
    mark, no message): the deciding company's next pass reads its rows whole once and names what
    already differed; the pass after reads nothing whole and adds nothing."""
    shop = chain.install("controle-antes", 1, 1, [1, 2, 3])
    catalog = chain.load_catalog(shop, priced=True)
    seq, skus = _product(catalog)
    _control(chain, 2, seq, "N")
    with monkeypatch.context() as before:
        before.setattr(stock_control, "note", lambda *a, **k: ([], []))
        stock.run(shop.shop_id)
        stock.run(shop.shop_id)
    with session_scope() as session:  # the marker as the version before wrote it: no data
        bindings.upsert_many(
            session, shop.shop_id, stock.POLICY_FROM_KIND, [BindingRow(stock.POLICY_FROM, None, "1")]
        )
    assert _notices(shop.shop_id) == {}
    reads = _erp_reads(monkeypatch)
    stock.run(shop.shop_id)
    assert reads[1] == [None]  # company 1 read whole, once
    assert sorted(_notices(shop.shop_id)) == [f"stock:control:2:{sku}" for sku in skus]
    stock.run(shop.shop_id)
    assert reads[1][1] is not None  # from its watermark again
    assert all(m.attempts == 1 for m in _notices(shop.shop_id).values())


def _erp_reads(monkeypatch) -> dict[int, list]:
    """The `since` of each ERP stock read, by company."""
    real = ErpClient.stock
    seen: dict[int, list] = {}

    def spy(self, since, company):
        seen.setdefault(company, []).append(since)
        return real(self, since, company)

    monkeypatch.setattr(ErpClient, "stock", spy)
    return seen


@contextmanager
def _statements():
    found: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        found.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_the_check_costs_only_the_skus_whose_control_turned(chain, monkeypatch):
    """The cost bound: an unchanged pass sends the very statements it sends without the check, and
    one whose rows moved without their control turning as well; the check is asked about the SKUs
    whose control turned only, never the shop's catalogue."""
    shop, catalog = _installed(chain, "controle-custo")
    stock.run(shop.shop_id)
    asked: list[tuple[int, dict[str, bool]]] = []
    real = stock_control.note

    def spy(session, shop_id, deciding, company, mapped, checked):
        asked.append((company, dict(checked)))
        return real(session, shop_id, deciding, company, mapped, checked)

    def counted(feature: bool) -> int:
        with monkeypatch.context() as patched:
            patched.setattr(stock_control, "note", spy if feature else (lambda *a, **k: ([], [])))
            with _statements() as found:
                stock.run(shop.shop_id)
        return len(found)

    unchanged_with, unchanged_without = counted(True), counted(False)
    assert unchanged_with == unchanged_without
    assert [c for c, _ in asked] == [1, 2, 3] and all(checked == {} for _, checked in asked)

    seq, skus = _product(catalog)
    other = next(int(d["seq_produto"]) for d in catalog.values() if int(d["seq_produto"]) != seq)
    where = {"nroempresa": 2, "seqproduto": other}
    erp_update(chain, t.mrl_produtoempresa, where, estqloja=7)  # a level moves, its control does not
    moved_with = counted(True)
    erp_update(chain, t.mrl_produtoempresa, where, estqloja=8)
    assert moved_with == counted(False)
    assert all(checked == {} for _, checked in asked)

    asked.clear()
    _control(chain, 2, seq, "N")
    with monkeypatch.context() as patched:
        patched.setattr(stock_control, "note", spy)
        stock.run(shop.shop_id)
    assert [(c, sorted(checked)) for c, checked in asked if checked] == [(2, skus)]
    assert all(checked == dict.fromkeys(skus, False) for c, checked in asked if checked)
    with session_scope() as session:
        kept = session.scalars(
            select(Message.unit_key).where(
                Message.shop_id == shop.shop_id, Message.unit_key.like("stock:control:%")
            )
        ).all()
    assert sorted(kept) == [f"stock:control:2:{sku}" for sku in skus]
