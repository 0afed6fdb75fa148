"""A seeded, repeatable supermarket chain: companies, segments, catalogue, prices, stock.

Same seed and size give the same rows (change times are all the generation time `now`, which
callers may fix). Rows go in with executemany batches, so 5,000 SKUs x 5 companies take
seconds and 100,000 SKUs stay practical.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Table

from sandbox.consinco import tables as t
from sandbox.consinco.fiscal import ean13, make_cnpj, split_document
from sandbox.consinco.store import SERVER_ZONE, Store

logger = logging.getLogger(__name__)

BATCH = 5000

STORES = [
    ("SP", "SAO PAULO"), ("RJ", "RIO DE JANEIRO"), ("MG", "BELO HORIZONTE"), ("PR", "CURITIBA"),
    ("SP", "CAMPINAS"), ("RS", "PORTO ALEGRE"), ("RJ", "NITEROI"), ("MG", "UBERLANDIA"),
]  # fmt: skip
SEGMENTS = [(1, "VAREJO LOJA"), (2, "ECOMMERCE"), (3, "ATACAREJO")]
# The chain's sales representatives [assumed]: 1 is the one registered for the e-commerce channel
# (the app's demo sets it); 3 has left (inactive), so an order filed under it is refused.
REPRESENTATIVES = [(1, "ECOMMERCE", "A"), (2, "TELEVENDAS", "A"), (3, "VENDEDOR DESLIGADO", "I")]
PAYMENT_METHODS = [
    (1, "DINHEIRO", "D"), (2, "PIX", "P"), (3, "CARTAO DE CREDITO", "C"),
    (4, "CARTAO DE DEBITO", "B"), (5, "BOLETO", "O"), (6, "VALE ALIMENTACAO", "V"),
]  # fmt: skip
PACKED = {
    "MERCEARIA": (["ARROZ TIPO 1", "FEIJAO CARIOCA", "ACUCAR REFINADO", "CAFE TORRADO", "MACARRAO",
                   "OLEO DE SOJA", "FARINHA DE TRIGO"], "10063021", ["5KG", "1KG", "500G", "900ML"]),
    "BEBIDAS": (["REFRIGERANTE", "SUCO INTEGRAL", "AGUA MINERAL", "CERVEJA PILSEN"], "22021000",
                ["2L", "1L", "350ML", "1,5L"]),
    "LIMPEZA": (["DETERGENTE", "SABAO EM PO", "AMACIANTE", "DESINFETANTE"], "34022000",
                ["500ML", "1KG", "2L"]),
    "HIGIENE": (["SABONETE", "CREME DENTAL", "SHAMPOO", "PAPEL HIGIENICO"], "34011190",
                ["90G", "350ML", "12 ROLOS"]),
    "LATICINIOS": (["LEITE UHT INTEGRAL", "IOGURTE NATURAL", "MANTEIGA"], "04012010",
                   ["1L", "170G", "200G"]),
}  # fmt: skip
WEIGHED = {
    "HORTIFRUTI": (["BANANA NANICA", "TOMATE ITALIANO", "BATATA INGLESA", "MACA GALA"], "08039000"),
    "ACOUGUE": (["ALCATRA BOVINA", "PICANHA BOVINA", "PEITO DE FRANGO"], "02013000"),
    "FRIOS": (["QUEIJO MUSSARELA", "PRESUNTO COZIDO", "MORTADELA"], "04061010"),
}
BRANDS = [
    "CAMIL",
    "KICALDO",
    "UNIAO",
    "PILAO",
    "BARILLA",
    "LIZA",
    "DONA BENTA",
    "GUARANA SOL",
    "DEL VALLE",
    "CRYSTAL",
    "BRAHMA",
    "YPE",
    "OMO",
    "COMFORT",
    "PROTEX",
    "COLGATE",
    "SEDA",
    "NEVE",
    "ITALAC",
    "NESTLE",
    "AVIACAO",
    "SADIA",
    "PERDIGAO",
    "SEARA",
]
PACK_NAME = {1: "UN", 6: "CX", 12: "CX"}


@dataclass(frozen=True)
class ChainSummary:
    """What was generated (counts and the generation time)."""

    companies: int
    segments: int
    families: int
    products: int
    skus: int
    price_rows: int
    generated_at: dt.datetime


def _insert(conn: Connection, table: Table, rows: Iterable[dict]) -> int:
    batch: list[dict] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def _money(value: float) -> float:
    return round(value + 1e-9, 2)


def generate_chain(
    store: Store,
    *,
    skus: int = 5000,
    companies: int = 5,
    segments: int = 2,
    seed: int = 1,
    now: dt.datetime | None = None,
) -> ChainSummary:
    """Fill an empty store with a chain of `companies` stores selling exactly `skus` SKUs."""
    if skus < 1 or not 1 <= companies <= 99 or not 2 <= segments <= len(SEGMENTS):
        raise ValueError("need skus >= 1, 1 <= companies <= 99, 2 <= segments <= 3")
    rng = random.Random(seed)
    with store.write() as (conn, write_time):
        now = now or write_time
        # the server's own day (promocaoVigente is decided by it): 22:00 in Sao Paulo is tomorrow in UTC
        today = (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(SERVER_ZONE).date()
        company_ids = list(range(1, companies + 1))
        segment_ids = [s for s, _ in SEGMENTS[:segments]]
        _companies(conn, rng, company_ids, now)
        _insert(
            conn,
            t.mad_segmento,
            (
                {
                    "nrosegmento": s,
                    "descsegmento": d,
                    "indprecoembalagem": "S",
                    "status": "A",
                    "dtaalteracao": now,
                }
                for s, d in SEGMENTS[:segments]
            ),
        )
        _insert(
            conn,
            t.mrl_formapagto,
            (
                {
                    "nroformapagto": n,
                    "formapagto": f,
                    "especieformapagto": e,
                    "status": "A",
                    "dtaalteracao": now,
                }
                for n, f, e in PAYMENT_METHODS
            ),
        )
        _insert(
            conn,
            t.mad_representante,
            (
                {"nrorepresentante": n, "apelido": a, "status": s, "dtaalteracao": now}
                for n, a, s in REPRESENTATIVES
            ),
        )
        families, products, packs = _catalogue(rng, skus, now)
        _insert(conn, t.map_familia, families)
        _insert(conn, t.map_produto, products)
        _insert(conn, t.map_famembalagem, packs)
        pack_by_family: dict[int, list[int]] = {}
        for pack in packs:
            pack_by_family.setdefault(pack["seqfamilia"], []).append(pack["qtdembalagem"])
        weighed = {f["seqfamilia"] for f in families if f["pesavel"] == "S"}
        _insert(conn, t.map_prodcodigo, _barcodes(products, pack_by_family, weighed))
        price_rows = _insert(
            conn,
            t.mrl_prodempseg,
            _prices(rng, products, pack_by_family, weighed, company_ids, segment_ids, now, today),
        )
        _insert(conn, t.mrl_produtoempresa, _stock(rng, seed, products, weighed, company_ids, now))
    summary = ChainSummary(companies, segments, len(families), len(products), skus, price_rows, now)
    logger.info("consinco sandbox: generated %s", summary)
    return summary


def _companies(conn: Connection, rng: random.Random, ids: list[int], now: dt.datetime) -> None:
    root = f"{rng.randrange(10_000_000, 99_999_999)}"
    people, companies = [], []
    for nro in ids:
        uf, city = STORES[(nro - 1) % len(STORES)]
        body, digits = split_document(make_cnpj(root, f"{nro:04d}"))
        people.append(
            {
                "seqpessoa": nro,
                "nomerazao": "SUPERMERCADOS SANDBOX LTDA",
                "fantasia": f"LOJA {nro} - {city}",
                "fisicajuridica": "J",
                "nrocgccpf": body,
                "digcgccpf": digits,
                "cep": f"{rng.randrange(10**7, 10**8)}",
                "cidade": city,
                "uf": uf,
                "bairro": "CENTRO",
                "logradouro": "AV BRASIL",
                "nrologradouro": str(100 * nro),
                "dtaalteracao": now,
            }
        )
        companies.append(
            {
                "nroempresa": nro,
                "nomereduzido": f"LOJA {nro} - {city}"[:40],
                "seqpessoaemp": nro,
                "nrosegmentoprinc": 1,
                "nrodivisao": 1 if nro <= 4 else 2,
                "uf": uf,
                "status": "A",
                "dtaalteracao": now,
            }
        )
    _insert(conn, t.ge_pessoa, people)
    _insert(conn, t.max_empresa, companies)


def _catalogue(rng: random.Random, skus: int, now: dt.datetime) -> tuple[list, list, list]:
    families: list[dict] = []
    products: list[dict] = []
    packs: list[dict] = []
    remaining = skus
    seqproduto = 0
    while remaining > 0:
        seqfamilia = len(families) + 1
        is_weighed = rng.random() < 0.1
        if is_weighed:
            category = rng.choice(sorted(WEIGHED))
            items, ncm = WEIGHED[category]
            sizes, quantities = [""], [1]
        else:
            category = rng.choice(sorted(PACKED))
            items, ncm, sizes = PACKED[category]
            roll = rng.random()
            quantities = [1, 6] if roll < 0.3 else [1, 12] if roll < 0.45 else [1]
            if len(quantities) > remaining:
                quantities = [1]
        item = rng.choice(items)
        brand = rng.choice(BRANDS)
        count = min(rng.randint(1, 3), remaining // len(quantities))
        families.append(
            {
                "seqfamilia": seqfamilia,
                "familia": f"{item} {brand}"[:60],
                "pesavel": "S" if is_weighed else "N",
                "pmtdecimal": "S" if is_weighed else "N",
                "codnbmsh": ncm,
                "codcest": f"{rng.randrange(10**6, 10**7)}",
                "marca": brand,
                "categoria": category,
            }
        )
        net = rng.choice([0.2, 0.5, 1.0, 2.0, 5.0])
        for qty in quantities:
            packs.append(
                {
                    "seqfamilia": seqfamilia,
                    "qtdembalagem": qty,
                    "embalagem": "KG" if is_weighed else PACK_NAME[qty],
                    "status": "A",
                    "pesoliquido": round(net * qty, 3),
                    "pesobruto": round(net * qty * 1.02, 3),
                    "dtahoraltembpreco": now,
                }
            )
        for _ in range(count):
            seqproduto += 1
            size = rng.choice(sizes)
            desc = f"{item} {brand} {size}".strip()
            products.append(
                {
                    "seqproduto": seqproduto,
                    "seqfamilia": seqfamilia,
                    "desccompleta": desc[:100],
                    "descreduzida": desc[:40],
                    "reffabricante": f"{brand[:3]}-{seqproduto}",
                    "indintegraecommerce": "S" if rng.random() > 0.01 else "N",
                    "dtahorinclusao": now,
                    "dtahoralteracao": now,
                }
            )
        remaining -= count * len(quantities)
    return families, products, packs


def _barcodes(products: list[dict], packs: dict[int, list[int]], weighed: set[int]) -> Iterable[dict]:
    for product in products:
        seq = product["seqproduto"]
        for index, qty in enumerate(packs[product["seqfamilia"]]):
            body = f"2{seq:06d}00000" if product["seqfamilia"] in weighed else f"789{index}{seq:08d}"
            yield {
                "codacesso": ean13(body),
                "seqproduto": seq,
                "tipcodigo": "E",
                "qtdembalagem": qty,
                "indutilvenda": "S",
            }


def _prices(
    rng: random.Random,
    products: list[dict],
    packs: dict[int, list[int]],
    weighed: set[int],
    companies: list[int],
    segments: list[int],
    now: dt.datetime,
    today: dt.date,
) -> Iterable[dict]:
    for product in products:
        base = rng.uniform(2.0, 80.0) if product["seqfamilia"] in weighed else rng.uniform(1.5, 45.0)
        for qty in packs[product["seqfamilia"]]:
            for company in companies:
                store_factor = 1 + ((company * 7) % 11 - 5) / 100
                for segment in segments:
                    normal = _money(
                        base
                        * qty
                        * (0.95 if qty > 1 else 1.0)
                        * store_factor
                        * (1.02 if segment == 2 else 1.0)
                    )
                    row = {
                        "nroempresa": company,
                        "nrosegmento": segment,
                        "seqproduto": product["seqproduto"],
                        "qtdembalagem": qty,
                        "precovalidnormal": normal,
                        "precovalidpromoc": 0.0,
                        "dtainicioprom": None,
                        "dtafimprom": None,
                        "statusvenda": "A" if rng.random() > 0.01 else "I",
                        "dtaalteracao": now,
                    }
                    roll = rng.random()
                    if roll < 0.12:
                        start = today - dt.timedelta(days=rng.randint(0, 5))
                        if roll < 0.02:  # an upcoming promotion
                            start = today + dt.timedelta(days=rng.randint(1, 5))
                        row["precovalidpromoc"] = _money(normal * rng.choice([0.8, 0.85, 0.9]))
                        row["dtainicioprom"] = start
                        row["dtafimprom"] = start + dt.timedelta(days=rng.randint(3, 14))
                    yield row


# Stock control (INDCONTROLAESTOQUEECOMM) is mostly a product's, set alike in every store: about
# this share of products has none anywhere, and a product's control differs at one company only
# this rarely (a store that took it up, or dropped it, alone). Drawn independently per company, nearly
# every product without control somewhere would differ between companies: Shopify keeps one
# inventoryPolicy per variant, so each such SKU is named to the merchant (jobs.stock_control).
NO_STOCK_CONTROL = 0.05
STOCK_CONTROL_DIFFERS = 0.002


def _stock_control(seed: int, seqproduto: int, companies: list[int]) -> dict[int, str]:
    """Each company's INDCONTROLAESTOQUEECOMM for the product: the product's own, then each company
    that differs from it. Drawn from a generator of its own (seed and product), so the chain's
    stream (`rng`) stays as it was and every other row with it."""
    own = random.Random(f"stock-control:{seed}:{seqproduto}")
    controlled = own.random() >= NO_STOCK_CONTROL
    flags = {}
    for company in companies:
        here = controlled != (own.random() < STOCK_CONTROL_DIFFERS)
        flags[company] = "S" if here else "N"
    return flags


def _spent(rng: random.Random, value: str) -> str:
    """`value`, after the draw the company's stock control once took from `rng` (kept: the rows
    drawn after it are the seeded data tests and benchmarks know)."""
    rng.random()
    return value


def _stock(
    rng: random.Random,
    seed: int,
    products: list[dict],
    weighed: set[int],
    companies: list[int],
    now: dt.datetime,
) -> Iterable[dict]:
    for product in products:
        is_weighed = product["seqfamilia"] in weighed
        control = _stock_control(seed, product["seqproduto"], companies)
        for company in companies:
            scale = 60.0 if is_weighed else 200
            loja = round(rng.uniform(0, scale), 3) if is_weighed else float(rng.randint(0, int(scale)))
            if rng.random() < 0.05:
                loja = 0.0
            yield {
                "nroempresa": company,
                "seqproduto": product["seqproduto"],
                "estqloja": loja,
                "estqdeposito": float(rng.choice([0, 0, rng.randint(0, 120)])),
                "estqtroca": float(rng.randint(0, 3)),
                "estqterceiro": float(rng.choice([0, 0, 0, rng.randint(0, 30)])),
                "qtdreservadavda": float(rng.randint(0, 4)),
                "qtdreservadareceb": float(rng.choice([0, 0, 1])),
                "qtdreservadafixa": float(rng.choice([0, 0, 2])),
                "indcontrolaestoqueecomm": _spent(rng, control[company]),
                "estqsegurancaecommerce": float(rng.choice([0, 0, 2, 5, 10])),
                "dtaalteracao": now,
                "dtahorultmovtoestq": now,
            }
