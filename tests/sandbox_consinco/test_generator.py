"""The generated chain: same seed = same data; valid EANs; the supermarket shapes; scale."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, select
from stdnum import ean

from sandbox.consinco import tables as t
from sandbox.consinco.generator import generate_chain
from sandbox.consinco.store import Store

NOW = dt.datetime(2026, 11, 28, 12, 0, 0)


def _dump(store: Store) -> dict[str, list[tuple]]:
    with store.read() as conn:
        return {
            table.name: sorted(tuple(row) for row in conn.execute(select(table)))
            for table in t.metadata.sorted_tables
        }


def test_same_seed_gives_the_same_chain(tmp_path):
    first, second, other = (Store(str(tmp_path / f"{n}.db")) for n in ("a", "b", "c"))
    generate_chain(first, skus=400, companies=3, seed=42, now=NOW)
    generate_chain(second, skus=400, companies=3, seed=42, now=NOW)
    generate_chain(other, skus=400, companies=3, seed=43, now=NOW)
    assert _dump(first) == _dump(second)
    assert _dump(first)["map_produto"] != _dump(other)["map_produto"]


def test_exact_sku_count_and_supermarket_shapes(tmp_path):
    store = Store(str(tmp_path / "chain.db"))
    summary = generate_chain(store, skus=1000, companies=4, seed=3, now=NOW)
    assert summary.skus == 1000
    p, e, f = t.map_produto, t.map_famembalagem, t.map_familia
    with store.read() as conn:
        skus = conn.execute(
            select(func.count()).select_from(p.join(e, e.c.seqfamilia == p.c.seqfamilia))
        ).scalar()
        assert skus == 1000
        packs = set(conn.execute(select(e.c.embalagem, e.c.qtdembalagem).distinct()))
        assert {("UN", 1), ("CX", 6), ("CX", 12), ("KG", 1)} <= packs
        weighed_codes = (
            conn.execute(
                select(t.map_prodcodigo.c.codacesso)
                .join(p, p.c.seqproduto == t.map_prodcodigo.c.seqproduto)
                .join(f, f.c.seqfamilia == p.c.seqfamilia)
                .where(f.c.pesavel == "S")
            )
            .scalars()
            .all()
        )
        codes = conn.execute(select(t.map_prodcodigo.c.codacesso)).scalars().all()
        stock = conn.execute(select(t.mrl_produtoempresa)).mappings().all()
        prices = conn.execute(select(t.mrl_prodempseg)).mappings().all()
        companies = conn.execute(select(t.max_empresa.c.uf)).scalars().all()
        segments = conn.execute(select(func.count()).select_from(t.mad_segmento)).scalar()
        payments = conn.execute(select(func.count()).select_from(t.mrl_formapagto)).scalar()
    assert len(codes) == 1000 and all(ean.is_valid(c) and len(c) == 13 for c in codes)
    assert weighed_codes and all(c.startswith("2") for c in weighed_codes)
    assert len(set(companies)) >= 3 and segments >= 2 and payments >= 5
    assert len(prices) == 1000 * 4 * 2
    running = [
        r for r in prices if r["precovalidpromoc"] and r["dtainicioprom"] <= NOW.date() <= r["dtafimprom"]
    ]
    assert running and all(r["precovalidpromoc"] < r["precovalidnormal"] for r in running)
    assert any(r["indcontrolaestoqueecomm"] == "N" for r in stock)
    assert any(r["estqsegurancaecommerce"] > 0 for r in stock)
    assert any(r["qtdreservadavda"] > 0 for r in stock)


def test_five_thousand_skus_five_companies_generate_quickly(tmp_path):
    store = Store(str(tmp_path / "big.db"))
    started = time.monotonic()
    summary = generate_chain(store, skus=5000, companies=5, seed=1)
    elapsed = time.monotonic() - started
    assert summary.skus == 5000 and summary.price_rows == 5000 * 5 * 2
    assert elapsed < 30, f"generation took {elapsed:.1f}s"  # ~2 s measured; generous on a shared machine
