"""The daily stock sweep (schedule `stock_full`, jobs.stock_full) and the read overlap setting
(ERP_READ_OVERLAP).

An Oracle transaction stamps DTAALTERACAO (SYSDATE) at its UPDATE and readers see the row only at
its COMMIT: a row of an ERP batch job committed minutes after its stamp is behind a watermark that
moved past the stamp meanwhile, and an incremental read starting the overlap before the watermark
(120 s by default) never sees it. The daily sweep reads every mapped company whole, so such a row
lands within a day; an ERP whose batches commit later than the overlap raises it (the setting), so
the next incremental pass reads it. An unchanged stock's sweep is ERP reads and comparisons with
the levels last sent: no Shopify mutation."""

from __future__ import annotations

import datetime as dt

import pytest

from erp.client import ErpClient
from jobs import stock, stock_full
from jobs.locks import flow_lock
from ledger import bindings, flows, watermarks
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.schedules import DEFAULT_SCHEDULES
from sandbox.consinco import tables as t
from settings import ConfigurationError, get_settings

from .test_stock_flow import erp_stock, expected, pick
from .test_stock_moves import _without_erp_row

FULL = "stock_full"


def _committed_late(chain, seq_produto: int, minutes: int) -> None:
    """Company 1's stock of the product emptied by a transaction whose UPDATE ran `minutes` ago and
    whose COMMIT is now (the row is visible from now on, stamped then)."""
    store = chain.consinco.erp.store
    table = t.mrl_produtoempresa
    with store.write() as (conn, now):
        stamped = now - dt.timedelta(minutes=minutes)
        conn.execute(
            table.update()
            .where(table.c.nroempresa == 1, table.c.seqproduto == seq_produto)
            .values(estqloja=0, estqdeposito=0, estqterceiro=0, dtaalteracao=stamped)
        )


def _erp_level(chain, sku: str) -> int | None:
    row, s = erp_stock(chain, 1)[sku]
    return expected(row, s)


def _marks(shop_id: int, companies: tuple[int, ...]) -> dict[int, dt.datetime | None]:
    with session_scope() as session:
        return {c: watermarks.read(session, shop_id, "stock", str(c)).last_changed_at for c in companies}


def test_the_stock_sweep_is_a_daily_schedule_after_the_erps_midnight_shown_with_the_flows() -> None:
    minute, hour, *every_day = DEFAULT_SCHEDULES[FULL].split()
    assert (minute, hour, every_day) == ("45", "3", ["*", "*", "*"])  # 00:45 in Brasília
    flow = flows.get(FULL)
    assert (flow.schedule, flow.queue, flow.run_job) == (FULL, "catalog", "jobs.stock_full.run")


def test_a_row_committed_minutes_after_its_stamp_lands_with_the_daily_sweep(chain):
    shop = chain.install("commit-tardio-varredura", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    _committed_late(chain, data["seq_produto"], minutes=5)
    for _ in range(2):  # the incremental passes read from their watermark less 120 s: not it
        stock.run(shop.shop_id)

    stock_full.run(shop.shop_id)

    want = _erp_level(chain, sku)
    assert want == 0 and chain.level(shop, data["inventory_item_id"], 1) == want, (
        f"{sku}: Shopify sells {chain.level(shop, data['inventory_item_id'], 1)}, the ERP has {want}"
    )


def test_an_overlap_raised_past_the_erps_batches_takes_a_late_commit_on_the_next_pass(chain, env):
    env.setenv("ERP_READ_OVERLAP", "600")  # the ERP's batches commit up to 10 minutes after their stamp
    shop = chain.install("commit-tardio-janela", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    _committed_late(chain, data["seq_produto"], minutes=5)

    stock.run(shop.shop_id)

    assert chain.level(shop, data["inventory_item_id"], 1) == _erp_level(chain, sku) == 0


@pytest.mark.parametrize("raw", ["abc", "-5", "0", "inf"])
def test_the_read_overlap_is_a_positive_number_of_seconds(env, raw):
    assert get_settings().erp_read_overlap == 120.0  # the default
    env.setenv("ERP_READ_OVERLAP", raw)
    with pytest.raises(ConfigurationError, match="ERP_READ_OVERLAP"):
        get_settings()


def test_an_unchanged_stocks_daily_sweep_reads_every_company_whole_and_changes_nothing(
    chain, calls, monkeypatch
):
    shop = chain.install("estoque-varredura", 1, 1, [1, 2, 3])
    chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    before = _marks(shop.shop_id, (1, 2, 3))
    assert all(before.values())
    asked: list[tuple[int | None, object]] = []
    real = ErpClient.stock

    def read(self, since=None, nro_empresa=None, **kw):
        asked.append((nro_empresa, since))
        return real(self, since, nro_empresa, **kw)

    monkeypatch.setattr(ErpClient, "stock", read)
    mark = calls.mark()

    result = stock_full.run(shop.shop_id)

    assert sorted(c for c, since in asked if since is None) == [1, 2, 3]  # every mapped company, whole
    assert calls.mutations(mark) == []  # nothing changed: not one Shopify mutation
    assert result["levels_sent"] == 0 and result["companies"] == [1, 2, 3]
    after = _marks(shop.shop_id, (1, 2, 3))
    assert all(after[c] >= before[c] for c in (1, 2, 3))  # a whole read never moves a watermark back


def test_the_sweep_finding_the_stock_flow_running_is_retried_not_skipped(chain):
    shop = chain.install("estoque-ocupado", 1, 1, [1])
    with flow_lock(shop.shop_id, stock.FLOW), pytest.raises(Transient) as busy:
        stock_full.run(shop.shop_id)
    assert busy.value.words == ("stock_busy_full_sweep", {})


def _skus_of(catalog, seq_produto):
    return {sku: d for sku, d in catalog.items() if d["seq_produto"] == seq_produto}


def _stocked(chain, name):
    """A store stocked from company 1, and a product of it with stock: (store, catalog, its SKU, the
    SKU's data, every packaging of the product)."""
    shop = chain.install(name, 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    return shop, catalog, sku, data, _skus_of(catalog, data["seq_produto"])


def test_a_stock_row_gone_from_the_erp_is_set_to_0_by_the_daily_sweep_and_stays_0(chain, calls):
    """The store stops carrying a product: the ERP has no stock row of it at the company any more
    (MRL_PRODUTOEMPRESA holds a row per product a company carries, one without stock at 0). An
    incremental read cannot tell (it lists changes only); the daily whole read proves the row gone,
    and every packaging's level is set to 0 at the company's location, its remembered figure 0 too,
    so a recheck of the SKU later does not put the old figure back. The next sweep costs nothing."""
    shop, catalog, sku, data, packagings = _stocked(chain, "linha-saiu")
    levels = {s: chain.level(shop, d["inventory_item_id"], 1) for s, d in catalog.items()}
    others = {s: level for s, level in levels.items() if s not in packagings}
    _without_erp_row(chain, 1, data["seq_produto"])
    assert sku not in erp_stock(chain, 1)

    stock_full.run(shop.shop_id)

    assert {s: chain.level(shop, d["inventory_item_id"], 1) for s, d in packagings.items()} == dict.fromkeys(
        packagings, 0
    )
    assert {s: chain.level(shop, catalog[s]["inventory_item_id"], 1) for s in others} == others
    with session_scope() as session:
        remembered = bindings.get_many(session, shop.shop_id, "stock", [f"1:{sku}"])[f"1:{sku}"].data
        assert remembered["base"] == "0" and remembered["sent"] == 0
        bindings.upsert_many(session, shop.shop_id, bindings.STOCK_RECHECK_KIND, [BindingRow(sku, None)])
    stock.run(shop.shop_id)  # a recheck (a price's flip, an order) re-evaluates it from what is remembered
    assert chain.level(shop, data["inventory_item_id"], 1) == 0
    mark = calls.mark()
    stock_full.run(shop.shop_id)
    assert calls.mutations(mark) == []


class _Read:
    """A whole ERP read as it came, but for the product's rows (and, `unsure`, unproven whole)."""

    def __init__(self, read, seq_produto, unsure):
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_seq", seq_produto)
        object.__setattr__(self, "_unsure", unsure)

    def __iter__(self):
        return (row for row in self._read if row.seq_produto != self._seq)

    def __getattr__(self, name):
        if name == "unsure" and self._unsure:
            return "pages asked by number went unchecked"
        return getattr(self._read, name)

    def __setattr__(self, name, value):
        setattr(self._read, name, value)


@pytest.mark.parametrize("case", ["changed_meanwhile", "unsure", "no_row_at_all"])
def test_a_whole_read_that_does_not_prove_a_row_gone_sets_no_level_to_0(chain, monkeypatch, case):
    """Absence from a whole read is no proof when the row changed while the read ran (it left the
    read's window: the read of the changes since the snapshot lists it), when the client cannot
    prove the read whole (`unsure`), or when the read found no row of the company at all (more
    likely a read or setup problem than a store selling nothing): no level is set to 0."""
    shop = chain.install(f"linha-duvida-{case.replace('_', '-')}", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    _sku, data = pick(catalog, chain, shop, 1, minimum=5)
    before = chain.level(shop, data["inventory_item_id"], 1)
    real = ErpClient.stock
    if case == "changed_meanwhile":  # its row changed during the whole read: in the next read only
        with chain.consinco.erp.store.write() as (conn, now):
            table = t.mrl_produtoempresa
            conn.execute(
                table.update()
                .where(table.c.nroempresa == 1, table.c.seqproduto == data["seq_produto"])
                .values(dtaalteracao=now)
            )

        def read(self, since=None, nro_empresa=None, **kw):
            found = real(self, since, nro_empresa, **kw)
            return _Read(found, data["seq_produto"], False) if since is None else found

        monkeypatch.setattr(ErpClient, "stock", read)
    elif case == "unsure":
        _without_erp_row(chain, 1, data["seq_produto"])

        def read(self, since=None, nro_empresa=None, **kw):
            return _Read(real(self, since, nro_empresa, **kw), None, True)

        monkeypatch.setattr(ErpClient, "stock", read)
    else:
        with chain.consinco.erp.store.write() as (conn, _now):
            conn.execute(t.mrl_produtoempresa.delete().where(t.mrl_produtoempresa.c.nroempresa == 1))

    stock_full.run(shop.shop_id)

    assert chain.level(shop, data["inventory_item_id"], 1) == before > 0


def test_many_stock_rows_gone_at_once_are_held_for_a_person_and_set_to_0_on_their_retry(chain, monkeypatch):
    """Many products gone from one whole read, a large share of the company's levels on sale, are
    more likely a read cut short or a setup change in the ERP than a store that stopped carrying
    them (jobs.absence's caps, lowered here so one product is "many"): no level is set to 0, one
    failed message per company names them in both languages, kept out of "Retry failed". Its Retry
    confirms them: a whole read again sets those still missing to 0 and closes it."""
    from decimal import Decimal

    from sqlalchemy import select

    from jobs import absence
    from ledger import trace
    from ledger.models import Message, MessageStatus
    from shopify_app import fail_words

    shop, _catalog, _sku, data, packagings = _stocked(chain, "linha-muitas")
    before = {s: chain.level(shop, d["inventory_item_id"], 1) for s, d in packagings.items()}
    _without_erp_row(chain, 1, data["seq_produto"])
    monkeypatch.setattr(absence, "HELD_MIN", 0)
    monkeypatch.setattr(absence, "HELD_SHARE", Decimal(0))

    stock_full.run(shop.shop_id)

    assert {s: chain.level(shop, d["inventory_item_id"], 1) for s, d in packagings.items()} == before
    with session_scope() as session:
        held = session.scalars(
            select(Message).where(Message.shop_id == shop.shop_id, Message.unit_key == "stock:gone:1")
        ).one()
        assert held.status == MessageStatus.FAILED.value, held.error_text
        assert held.error_detail["code"] == "STOCK_GONE_HELD" and held.error_detail[trace.RETRY_ALONE]
        assert sorted(held.error_detail["skus"]) == sorted(packagings)
        assert "none was set to 0, they keep their level" in held.error_text, held.error_text
        assert fail_words.reason(held, "en") == held.error_text
        assert "nenhum foi zerado" in (fail_words.reason(held, "pt-BR") or "")
        held_id = held.id

    stock.replay(held_id)  # the person's Retry: what it named is confirmed

    assert {s: chain.level(shop, d["inventory_item_id"], 1) for s, d in packagings.items()} == dict.fromkeys(
        packagings, 0
    )
    with session_scope() as session:
        assert session.get(Message, held_id).status == MessageStatus.DONE.value
