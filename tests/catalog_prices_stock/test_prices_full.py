"""The daily price sweep (schedule `prices_full`, jobs.prices_full): the store's pair and each
market's pair read whole once a day, so what no change time announces still reaches Shopify.

A promotion the ERP gives by its running flag alone (promocaoVigente, no dates) ends at the ERP's
midnight without any row changing (Consinco leaves DTAALTERACAO as it was): the incremental passes
read nothing and their remembered state has no date to end it by. Only a whole read sees the flag
turned off. An unchanged catalog's sweep costs ERP reads alone: no Shopify mutation."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rq import Queue
from sqlalchemy import delete

import erp.client as erp_client
from erp.client import ErpClient
from jobs import absence, prices, prices_full, scheduler
from jobs.locks import flow_lock
from jobs.price_map import erp_today
from jobs.price_never_listed import UNIT as NEVER_LISTED
from jobs.price_unlisted import UNIT as UNLISTED
from ledger import flows, handled, watermarks
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.mappings import upsert_mapping
from ledger.models import Binding, Message, MessageStatus
from ledger.schedules import DEFAULT_SCHEDULES, ensure_default_schedules
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump
from settings import get_settings
from shopify_app.admin_api import for_shop

from .chain import erp_update, messages
from .test_never_priced import _drop_records

FULL = "prices_full"


def _shown(chain, shop, variant_id):
    doc = chain.variant(shop, variant_id)
    compare = doc.get("compareAtPrice")
    return Decimal(str(doc["price"])), None if compare is None else Decimal(str(compare))


def _list_prices(chain, shop) -> dict[str, str]:
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    return price_list["prices"]


def _map_market(shop, pair: str) -> str:
    client = for_shop(shop.domain)
    market = next(iter(client.markets()))
    client.close()
    with session_scope() as session:
        upsert_mapping(session, shop.shop_id, "segment_market", market.id, pair, f"Par {pair}")
    return market.id


def _flag_only(monkeypatch, day: dict) -> None:
    """An installation whose TabelaPrecoItem serves the running flag and no promotion dates: the
    server computes the flag for its own day (`day["now"]`)."""
    spec = erp_client.RESOURCES["price_items"]
    real_parse = spec.parse

    def parse(raw, names):
        start, end = raw.get("dtaInicioPromoc"), raw.get("dtaFimPromoc")
        if start and end:
            raw = {**raw, "promocaoVigente": start <= day["now"].isoformat() <= end}
        return real_parse({**raw, "dtaInicioPromoc": None, "dtaFimPromoc": None}, names)

    monkeypatch.setitem(erp_client.RESOURCES, "price_items", dataclasses.replace(spec, parse=parse))


def _beyond_the_overlap(monkeypatch) -> None:
    """Each incremental pass reads from its watermark only (its runs more than the overlap apart)."""
    real = prices.erp_for_shop
    monkeypatch.setattr(
        prices, "erp_for_shop", lambda shop_id, **o: real(shop_id, **{"overlap": timedelta(0), **o})
    )


def _reads(monkeypatch) -> list[tuple[int | None, int | None, datetime | None]]:
    """Every price read the flow asks the ERP for: (company, segment, since)."""
    asked: list[tuple[int | None, int | None, datetime | None]] = []
    real = ErpClient.price_items

    def price_items(self, since=None, nro_empresa=None, nro_segmento=None, **kw):
        asked.append((nro_empresa, nro_segmento, since))
        return real(self, since, nro_empresa, nro_segmento, **kw)

    monkeypatch.setattr(ErpClient, "price_items", price_items)
    return asked


def test_the_price_sweep_is_a_daily_schedule_after_the_erps_midnight_shown_with_the_flows() -> None:
    assert DEFAULT_SCHEDULES[FULL] == "30 3 * * *"  # 00:30 in Brasília: after the ERP's midnight
    assert DEFAULT_SCHEDULES[FULL] != DEFAULT_SCHEDULES["catalog_full"]
    flow = flows.get(FULL)
    assert (flow.schedule, flow.queue, flow.run_job) == (FULL, "catalog", "jobs.prices_full.run")


def test_a_promotion_known_by_its_flag_alone_ends_with_the_daily_sweep_in_the_store_and_the_market(
    chain, monkeypatch, redis_conn
):
    today = erp_today(get_settings().erp_timezone)
    day = {"now": today}  # the (simulated) ERP server's day
    _flag_only(monkeypatch, day)
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("promo-flag-sweep", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    _map_market(shop, "2:2")
    sku, data = next((s, d) for s, d in catalog.items() if d["qtd_embalagem"] == "1" and not d["weighed"])
    for company, segment in ((1, 1), (2, 2)):  # a one-day promotion in the store's pair and the market's
        where = {"nroempresa": company, "nrosegmento": segment, "seqproduto": data["seq_produto"],
                 "qtdembalagem": 1}  # fmt: skip
        erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=10.0, precovalidpromoc=7.0,
                   dtainicioprom=today, dtafimprom=today)  # fmt: skip
    prices.run(shop.shop_id, today=today)
    assert _shown(chain, shop, data["variant_id"]) == (Decimal("7.00"), Decimal("10.00"))
    assert _list_prices(chain, shop)[data["variant_id"]] == "7.00"

    day["now"] = today + timedelta(days=1)  # the ERP's flag is false now; its rows did not change
    prices.run(shop.shop_id, today=day["now"])  # an incremental pass: nothing to read, no date to go by
    with session_scope() as session:
        ensure_default_schedules(session, shop.shop_id)
    due = datetime.combine(day["now"], datetime.min.time(), UTC).replace(hour=3, minute=30, second=5)
    enqueued = scheduler.tick(due)
    job_id = next(j for j in enqueued if f"-{FULL}-" in j)
    job = Queue("catalog", connection=redis_conn).fetch_job(job_id)
    assert (job.func_name, job.args) == ("jobs.prices_full.run", (shop.shop_id,))
    prices_full.run(shop.shop_id, today=day["now"])

    assert _shown(chain, shop, data["variant_id"]) == (Decimal("10.00"), None), (
        f"{sku} still sold at the promotional price after its promotion ended"
    )
    assert _list_prices(chain, shop)[data["variant_id"]] == "10.00"


def test_an_unchanged_catalogs_daily_sweep_reads_every_pair_whole_and_changes_nothing(
    chain, calls, monkeypatch
):
    shop = chain.install("precos-varredura", 1, 1, [1])
    chain.load_catalog(shop)
    market = _map_market(shop, "2:2")
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    scopes = ("1:1", f"list:2:2:{market.rsplit('/', 1)[-1]}")
    with session_scope() as session:
        before = {s: watermarks.read(session, shop.shop_id, "prices", s).last_changed_at for s in scopes}
    assert all(before.values())
    asked = _reads(monkeypatch)
    mark = calls.mark()

    result = prices_full.run(shop.shop_id, today=today)

    assert (1, 1, None) in asked and (2, 2, None) in asked  # both pairs read from no watermark
    assert calls.mutations(mark) == []  # an unchanged catalog: not one Shopify mutation
    assert result["variants_sent"] == 0 and result["list_prices"] == 0
    with session_scope() as session:
        after = {s: watermarks.read(session, shop.shop_id, "prices", s).last_changed_at for s in scopes}
    assert all(after[s] >= before[s] for s in scopes)  # a whole read never moves a watermark back


def test_the_sweep_finding_the_prices_flow_running_is_retried_not_skipped(chain):
    """Skipped, a day's sweep would be lost without a word: RQ retries it (Transient), and after
    its last try the Flows page shows the schedule failed, in the merchant's words."""
    shop = chain.install("precos-ocupado", 1, 1, [1])
    with flow_lock(shop.shop_id, prices.FLOW), pytest.raises(Transient) as busy:
        prices_full.run(shop.shop_id)
    assert busy.value.words == ("prices_busy_full_sweep", {})


def _close_by_hand(shop_id: int, unit_key: str) -> int:
    with session_scope() as session:
        (message,) = [m for m in messages(shop_id, "prices") if m.unit_key == unit_key]
        handled.mark(session, session.get(Message, message.id), by="3", note="not sold in this store")
        return message.attempts


def _status(shop_id: int, unit_key: str) -> tuple[str, int]:
    (message,) = [m for m in messages(shop_id, "prices") if m.unit_key == unit_key]
    return message.status, message.attempts


def test_a_sku_never_priced_that_a_person_closed_as_handled_is_not_said_again_every_day(chain):
    """A whole read says the SKUs in Shopify the pair has no price record for (jobs.price_never_listed).
    Daily, it would reopen every morning the messages a person closed (this store does not sell
    them): closed as handled, they stay closed."""
    shop = chain.install("nunca-precificado-diario", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    _drop_records(chain, [data["seq_produto"]])
    prices.run(shop.shop_id)  # the pair's first pass, a whole read: said
    unit = f"price:{data['seq_produto']}:{sku}"
    assert _status(shop.shop_id, unit)[0] == MessageStatus.FAILED.value
    attempts = _close_by_hand(shop.shop_id, unit)

    prices_full.run(shop.shop_id)

    assert _status(shop.shop_id, unit) == (MessageStatus.SKIPPED.value, attempts)


def test_a_hold_a_person_closed_as_handled_is_not_reopened_by_the_next_sweep_unless_it_grows(
    chain, monkeypatch
):
    monkeypatch.setattr(absence, "HELD_MIN", 2)
    shop = chain.install("nunca-precificados-diario", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    seqs = sorted({d["seq_produto"] for d in catalog.values()})
    _drop_records(chain, seqs[:6])
    prices.run(shop.shop_id)  # many at once: one held message (price:never-listed)
    assert _status(shop.shop_id, NEVER_LISTED)[0] == MessageStatus.FAILED.value
    attempts = _close_by_hand(shop.shop_id, NEVER_LISTED)

    prices_full.run(shop.shop_id)
    assert _status(shop.shop_id, NEVER_LISTED) == (MessageStatus.SKIPPED.value, attempts)

    # One more SKU in Shopify never priced (its variant new, say) the pair has no record for: the
    # hold is said again, naming it too.
    _drop_records(chain, seqs[6:7])
    more = sorted(s for s, d in catalog.items() if d["seq_produto"] == seqs[6] and d["qtd_embalagem"] == "1")
    with session_scope() as session:
        session.execute(delete(Binding).where(Binding.kind == "price", Binding.erp_id.in_(more)))
    prices_full.run(shop.shop_id)
    assert _status(shop.shop_id, NEVER_LISTED)[0] == MessageStatus.FAILED.value
    (held,) = [m for m in messages(shop.shop_id, "prices") if m.unit_key == NEVER_LISTED]
    assert more and set(more) <= set(held.error_detail["skus"])


def test_priced_skus_held_on_sale_that_a_person_closed_as_handled_are_not_held_again_every_day(
    chain, monkeypatch
):
    """Many SKUs priced before that a whole read does not list are held on sale for a person
    (jobs.price_unlisted, "price:unlisted"). Closed as handled (kept at their last price on purpose),
    the next day's sweep finding the same ones missing does not reopen it."""
    monkeypatch.setattr(absence, "HELD_MIN", 2)
    shop = chain.install("sem-registro-diario", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)  # every SKU priced
    _drop_records(chain, sorted({d["seq_produto"] for d in catalog.values()})[:6])
    prices_full.run(shop.shop_id)  # many missing at once: held for a person
    assert _status(shop.shop_id, UNLISTED)[0] == MessageStatus.FAILED.value
    attempts = _close_by_hand(shop.shop_id, UNLISTED)

    prices_full.run(shop.shop_id)

    assert _status(shop.shop_id, UNLISTED) == (MessageStatus.SKIPPED.value, attempts)
