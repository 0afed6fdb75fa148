"""Pure normalisation: one ERP product + its SKUs -> one Shopify ProductSetInput.

Why pure: the products flow, the skus flow, the bulk initial load, the dry-run diff and the
benchmark all build the same input from the same records, so a product hashes the same
wherever it was built (the digest that makes an unchanged catalog cost zero mutations).

Records arrive as the JSON-able "cache" dicts below (`cache_product` / `cache_sku`), the shape
the ledger keeps per product (jobs/catalog_cache.py), so fresh ERP records and cached ones take
the very same route.

Decisions (issue 6):
- One Shopify product per seqProduto, one variant per packaging; option "Embalagem" with values
  "UN" (qty 1), "CX-6", "CX-12"... and "KG" for weighed items. SKU = idSku (P{seq}E{qtd}) on
  the inventory item, EAN as barcode, gross weight (else net) in kilograms.
- The barcode is the ERP's code (codAcesso) only when it is a GTIN: 8, 12, 13 or 14 digits with
  the right check digit (python-stdnum's stdnum.ean, as the sandbox makes them). Any other code
  is sent as no barcode (`barcode_problem`: "check_digit", "length", "not_digits"), and the
  product's message says which SKU and code (request `barcodes_not_sent`, search word
  EAN_INVALID, explained on the Messages page), so the merchant corrects it in the ERP: a
  mistyped EAN on Shopify scans as nothing and is refused by the channels that read it as a
  GTIN. Weighed items (brazil.md): the store's scale codes are EAN-13 in the GS1 restricted range
  20-29, valid by their check digit: sent as before; a short code of a weighed item (a scale PLU,
  fewer than 8 digits) is its internal code, not a wrong EAN ("scale_code": not sent, its note
  says nothing needs correcting). A valid code goes exactly as before, so the digests of a
  catalog whose codes are right do not change; the wrong codes are hashed with the input
  (`_not_sent_tail`), so one corrected to another wrong code is recorded and told anew.
- Weighed items (PESAVEL) are sold in units of 1 kg (`WEIGHED_SALE_UNIT_KG`): one Shopify unit
  = 1 kg, so the ERP's price per kg is the variant price and the stock in kg (rounded down)
  is the inventory quantity, with no conversion anywhere. The variant shows a unit price per
  kg (unitPriceMeasurement KG/1 per KG/1) and weighs 1 kg. The variant binding carries
  `weighed` and `unit_kg` so the price, stock and order flows can rely on it. That holds only for
  the KG packaging of quantity 1 (docs/consinco-api.md): a weighed packaging of another quantity
  (a 0,5 kg tray, a 10 kg box) would be labelled KG, weigh 1 kg and show its price per 1 kg, the
  stock flow would count its units in kg (10 kg: 10 units, where the ERP counts 20 trays) and an
  order in base units would ask the ERP for half the kilograms sold. Such a packaging is held out
  of the sale (`not_kg`): not made a variant (no binding: the prices, stock and order flows leave
  it alone), or, bound to a variant already, kept as an inactive one (DENY, stock 0: never
  deleted, as an inactive packaging); while the ERP sells it, the product's message fails naming
  it (`MappedProduct.held`, code WEIGHED_PACKAGING_NOT_KG, jobs.catalog_ledger.held_error) until
  the ERP sells the item by its KG packaging of quantity 1. The product's other packagings are
  sent as ever; a product left with none to send is not sent (jobs.catalog_load.sync fails its
  message alone).
- Status: a product is ACTIVE when the ERP integrates it (INDINTEGRAECOMMERCE) and at least one
  packaging is active (its packaging status, and its statusVenda for the store's company and
  segment: `off_sale`); otherwise the shop setting `inactive_sku_status` (DRAFT | ARCHIVED).
  Never deleted.
- An inactive packaging of an active product keeps its variant (ids, SKU, orders history and
  bindings stay valid; productSet replaces the variant list whole, so dropping it would delete
  it) with inventoryPolicy DENY; its binding says `active: false` and the stock flow sends 0
  for it, so it cannot be bought. Active variants leave inventoryPolicy out: the stock flow
  owns it (CONTINUE for items without stock control).
- Every inventory item is sent `tracked: true`. Shopify creates an item through the API
  untracked unless told otherwise, and an untracked item sells without limit whatever its
  inventoryPolicy, while the stock flow refuses to write its level ("not tracked"): DENY would
  stop nothing and the shop would oversell. The ERP owns stock (issue 6), and an item without
  stock control in the ERP gets inventoryPolicy CONTINUE from the stock flow, which sells at 0
  all the same, so tracking every item costs nothing. An item an earlier version created
  untracked is tracked by its product's next productSet: this field changed every product's
  digest, but an incremental pass only plans the products the ERP changed, so the products pass
  re-plans every cached product once (jobs/catalog_tracking.py).
- Price, compareAtPrice, stock, tags and metafields are left out of the input on purpose: the
  prices / stock flows and the merchant own them, and productSet leaves absent fields alone.
- A packaging already bound to a variant of the product sends that variant's `id`
  (`variant_ids`, from the "variant" bindings: jobs.catalog_ledger.plan). productSet matches a
  variant without an id by its option values, so a label that changes (the packaging renamed in
  the ERP, CX -> FD; a family whose PESAVEL flips, CX-6 -> KG) would delete the variant and
  create another: new variant and inventory item ids, orders cut from the variant they sold.
  With its id the variant is updated in place. The ids are added after the digest is taken
  (they are Shopify's, not the ERP's content: an unchanged catalog still costs nothing) and go
  in `input` and `line` alike. An id can be stale (the merchant deleted the variant or the
  product by hand): Shopify refuses it (PRODUCT_VARIANT_DOES_NOT_EXIST) and the product is sent
  again `without_variant_ids` at the positions refused (jobs.catalog_load), the others still by
  their ids. A bound variant that was sent a unit price and has none now (its family no longer
  weighed: KG -> UN, one unit) is sent `showUnitPrice: false` with its id, likewise out of the
  digest: productSet keeps an absent unit price, which would show "R$ x / kg" on one unit. (Its
  unitPriceMeasurement stays in Shopify, unshown: the 2026-10 schema has no documented way to
  clear it, and null is not said to.)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import math
import operator
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from erp.codes import GTIN_LENGTHS, check_digit
from erp.records import Product, Sku
from erp.text_width import first_parts

CUSTOM_ID_NAMESPACE = "consinco"
CUSTOM_ID_KEY = "seq_produto"
OPTION_NAME = "Embalagem"
WEIGHED_SALE_UNIT_KG = Decimal("1")
ACTIVE = "ACTIVE"
INACTIVE_STATUSES = ("DRAFT", "ARCHIVED")
SCALE_CODE = "scale_code"  # a weighed item's short code (PLU): not a GTIN, and not a mistake
UNCHECKED = "unchecked"  # a `problem` argument meaning: not looked at yet
TEXT_MAX = 255  # Shopify's longest product title, vendor and product type


def custom_id(seq_produto: int | str) -> tuple[str, str, str]:
    """The product's custom id (namespace, key, value): the upsert key of productSet."""
    return (CUSTOM_ID_NAMESPACE, CUSTOM_ID_KEY, str(seq_produto))


def _text(value: Decimal | None) -> str | None:
    """The number as plain digits, no exponent, no trailing zeros ("2.04", "12", "100", "-0")."""
    if value is None:
        return None
    normal = value.normalize()
    text = str(normal)  # the same digits as format(normal, "f") at ~1/4 of its CPU, unless str
    # chose an exponent (a normalized 100 is 1E+2; 1E-7): only then "f" (both print NaN, -0 alike)
    return text if "E" not in text and "e" not in text else format(normal, "f")


def cache_product(product: Product) -> dict[str, Any]:
    """The fields of a ProdutoCV record the catalog uses, as JSON values (what the ledger keeps)."""
    return {
        "seq_produto": product.seq_produto,
        "description": product.description,
        "short_description": product.short_description,
        "family": product.family,
        "brand": product.brand,
        "category": product.category,
        "weighed": product.weighed,
        "ncm": product.ncm,
        "manufacturer_ref": product.manufacturer_ref,
        "integrate_ecommerce": product.integrate_ecommerce,
        "changed_at": product.changed_at.isoformat(),
    }


def cache_sku(sku: Sku) -> dict[str, Any]:
    """The fields of a ProdutoSku record the catalog uses, as JSON values."""
    return {
        "id_sku": sku.id_sku,
        "seq_produto": sku.seq_produto,
        "qtd_embalagem": _text(sku.qtd_embalagem),
        "packaging": sku.packaging,
        "description": sku.description,
        "ean": sku.ean,
        "weighed": sku.weighed,
        "gross_weight": _text(sku.gross_weight),
        "net_weight": _text(sku.net_weight),
        "active": sku.active,
        "changed_at": sku.changed_at.isoformat(),
    }


def option_label(sku: Mapping[str, Any]) -> str:
    """ "KG" for weighed items, the packaging for one unit ("UN"), else "CX-12"."""
    if sku.get("weighed"):
        return "KG"
    qty = Decimal(str(sku["qtd_embalagem"]))
    packaging = str(sku.get("packaging") or "UN").upper()
    return packaging if qty == 1 else f"{packaging}-{_text(qty)}"


def is_active(product: Mapping[str, Any], skus: Iterable[Mapping[str, Any]]) -> bool:
    """Sold in the shop: integrated by the ERP and at least one active packaging."""
    return bool(product.get("integrate_ecommerce", True)) and any(s.get("active") for s in skus)


def product_status(product: Mapping[str, Any], skus: list[Mapping[str, Any]], inactive_status: str) -> str:
    if inactive_status not in INACTIVE_STATUSES:
        raise ValueError(f"inactive_sku_status must be one of {INACTIVE_STATUSES}, got {inactive_status!r}")
    return ACTIVE if is_active(product, skus) else inactive_status


def ordered_skus(skus: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Variants in a stable order: smallest packaging first, then by SKU id."""
    return sorted(skus, key=lambda s: (Decimal(str(s["qtd_embalagem"])), str(s["id_sku"])))


def _weight_kg(sku: Mapping[str, Any]) -> float:
    """The variant's weight in kg: 1 for weighed items, else the gross weight (else the net) when
    more than 0; none: 0, which clears a weight the ERP no longer has (absent keeps it)."""
    if sku.get("weighed"):
        return _ONE_KG
    for name in ("gross_weight", "net_weight"):
        value = sku.get(name)
        if value is not None:
            kg = _kilograms(str(value))
            if kg is not None:
                return kg
    return 0.0


_ONE_KG = float(WEIGHED_SALE_UNIT_KG)


def _title(product: dict[str, Any]) -> str:
    """The product's description, or "Produto <seqproduto>" when it has none or only blanks
    (Shopify requires a title); a description is sent as the ERP has it (its digest unchanged),
    cut only past Shopify's width (`_within`)."""
    description = product.get("description")
    return (
        _within(description) if description and description.strip() else f"Produto {product['seq_produto']}"
    )


def _within(text: str) -> str:
    """`text` as Shopify takes a title, vendor or product type: past TEXT_MAX characters (which it
    refuses, failing the whole product) cut at the last space within, by characters when that gives
    up more than half of it (erp.text_width.first_parts); shorter, as it is."""
    return text if len(text) <= TEXT_MAX else first_parts([text], " ", TEXT_MAX) or text[:TEXT_MAX]


@functools.lru_cache(maxsize=4096)
def _kilograms(text: str) -> float | None:
    """float(text) when Decimal(text) > 0, else None, once per distinct text: a catalog's weights
    repeat across packagings. A weight too large for a float (1E+400: infinite, which JSON cannot
    carry to Shopify) is no weight either."""
    kilograms = float(text) if Decimal(text) > 0 else None
    return kilograms if kilograms is None or math.isfinite(kilograms) else None


@functools.lru_cache(maxsize=1024)
def _quantity(text: str) -> Decimal:
    """A packaging quantity's text as a Decimal, once per distinct text (a catalog has a few)."""
    return Decimal(text)


@functools.lru_cache(maxsize=4096, typed=True)
def _box_label(packaging: str | None, quantity: str) -> str:
    """option_label of a packaging that is not weighed, from its packaging and quantity text."""
    name = str(packaging or "UN").upper()
    qty = _quantity(quantity)
    return name if qty == 1 else f"{name}-{_text(qty)}"


@functools.lru_cache(maxsize=1024, typed=True)
def _items_per_box(qty: Decimal) -> float | None:
    """The unit price's quantity of a box of `qty` items (whole and more than one), else None."""
    return float(qty) if qty > 1 and qty == qty.to_integral_value() else None


def not_kg(weighed: Any, qty: Decimal) -> bool:
    """A weighed packaging that is not the KG packaging of quantity 1: held out of the sale (module
    docstring), since every flow takes one unit of a weighed variant for WEIGHED_SALE_UNIT_KG."""
    return bool(weighed) and qty != WEIGHED_SALE_UNIT_KG


def shows_unit_price(weighed: Any, qtd_embalagem: Any) -> bool:
    """The variant of a packaging so (a "variant" binding's `weighed`, `qtd_embalagem`) was sent
    a unit price (_variant): per kg when weighed, per item for a box."""
    if weighed:
        return True
    try:
        return _items_per_box(_quantity(str(qtd_embalagem))) is not None
    except ArithmeticError:  # (decimal.InvalidOperation: no quantity kept)
        return False


_KG_UNIT_PRICE = {
    "quantityUnit": "KG",
    "quantityValue": float(WEIGHED_SALE_UNIT_KG),
    "referenceUnit": "KG",
    "referenceValue": 1,
}


def barcode_problem(sku: Mapping[str, Any]) -> str | None:
    """Why the SKU's ERP code is not sent as its barcode (module docstring); None when it is sent
    (or the SKU has none)."""
    return _code_problem(_code(sku), sku.get("weighed"))


def _code(sku: Mapping[str, Any]) -> str:
    """The SKU's ERP code as text ("" for none)."""
    return str(sku.get("ean") or "").strip()


def _code_problem(code: str, weighed: Any) -> str | None:
    """barcode_problem of a SKU whose code (_code) and weighed flag are these."""
    if not code:
        return None
    if not (code.isascii() and code.isdigit()):
        return "not_digits"
    if len(code) not in GTIN_LENGTHS:
        return SCALE_CODE if weighed and len(code) < GTIN_LENGTHS[0] else "length"
    # ASCII digits and length checked above: the check digit alone (stdnum's is_valid redoes the
    # rest, twice the CPU on a 50,000-SKU load; erp.codes.check_digit computes stdnum's digit)
    return None if check_digit(code[:-1]) == code[-1] else "check_digit"


def barcode(sku: Mapping[str, Any], problem: str | None = UNCHECKED) -> str | None:
    """The variant's barcode: the ERP's code when it is a GTIN, else None. `problem`: the SKU's
    barcode_problem when the caller has it."""
    code = _code(sku)
    if problem == UNCHECKED:
        problem = _code_problem(code, sku.get("weighed"))
    return code if code and problem is None else None


def variant_input(
    product_active: bool,
    sku: Mapping[str, Any],
    label: str,
    qty: Decimal | None = None,
    problem: str | None = UNCHECKED,
) -> dict[str, Any]:
    """One ProductVariantSetInput (no price, no stock: other flows own them). `qty`: the
    packaging's quantity when the caller already has it as a Decimal; `problem`: its
    barcode_problem, likewise. The inventory item is always `tracked` (module docstring)."""
    sellable = bool(product_active and sku.get("active"))
    return _variant(sku, label, qty, barcode(sku, problem), sellable)


def _variant(
    sku: Mapping[str, Any], label: str, qty: Decimal | None, code: str | None, sellable: bool
) -> dict[str, Any]:
    """variant_input, from its barcode (None: none sent) and whether it is for sale. The unit
    price: per kg for weighed items, per unit for boxes (the shelf label's unit price)."""
    variant: dict[str, Any] = {
        "optionValues": [{"optionName": OPTION_NAME, "name": label}],
        "barcode": code,
        "inventoryItem": {
            "sku": sku["id_sku"],
            "tracked": True,
            "measurement": {"weight": {"value": _weight_kg(sku), "unit": "KILOGRAMS"}},
        },
    }
    if sku.get("weighed"):
        variant["unitPriceMeasurement"] = dict(_KG_UNIT_PRICE)
        variant["showUnitPrice"] = True
    else:
        items = _items_per_box(Decimal(str(sku["qtd_embalagem"])) if qty is None else qty)
        if items is not None:
            unit = {
                "quantityUnit": "ITEM",
                "quantityValue": items,
                "referenceUnit": "ITEM",
                "referenceValue": 1,
            }
            variant["unitPriceMeasurement"] = unit
            variant["showUnitPrice"] = True
    if not sellable:
        variant["inventoryPolicy"] = "DENY"
    return variant


def description_html(product: Mapping[str, Any]) -> str:
    ref = product.get("manufacturer_ref")
    items = "".join(
        (
            _fact("Marca", product.get("brand")),
            _fact("Família", product.get("family")),
            f"<li>Ref. fabricante: {html.escape(str(ref))}</li>" if ref else "",
            _fact("NCM", product.get("ncm")),
        )
    )
    head = f"<p>{html.escape(product.get('description') or '')}</p>"
    return head + (f"<ul>{items}</ul>" if items else "")


@functools.lru_cache(maxsize=4096)
def _fact(label: str, value: Any) -> str:
    """One <li> of a value shared by many products (brand, family, NCM): escaped once."""
    return f"<li>{label}: {html.escape(str(value))}</li>" if value else ""


@dataclass(frozen=True)
class MappedProduct:
    """A product ready to send: the input, its digest, and per-SKU facts for the bindings.

    `line` is the product's bulk JSONL line (the ProductSet variables as JSON), made once at
    mapping time around the input's bytes, which the digest hashes too: a product is never
    serialised twice on a first load (a product bound to Shopify variants is encoded a second
    time, with their ids, which the digest leaves out).
    """

    seq_produto: int
    input: dict[str, Any]
    digest: str
    status: str
    skus: list[dict[str, Any]]  # [{id_sku, qtd_embalagem, weighed, ean, active, label[, barcode_problem]}]
    line: bytes = b""
    # weighed packagings the ERP sells that are not its KG packaging of quantity 1, held out of the
    # sale (module docstring): [{id_sku, qtd_embalagem}]; their product's message fails naming them
    held: tuple[dict[str, str], ...] = ()

    @property
    def sends_variant_ids(self) -> bool:
        """Some variant of the input names the bound variant it updates (module docstring)."""
        return any("id" in v for v in self.input.get("variants") or ())

    def without_variant_ids(self, stale: Collection[int] | None = None) -> MappedProduct:
        """The same product with no variant id at the `stale` positions of its variants (None: at
        any): what is sent again when Shopify refuses a stale one, the variant matched by option
        value, as productSet does without ids, the others still by their ids (matched by option
        value too, a variant whose label changed meanwhile would be made anew: a new id, its
        orders' and stock's variant gone). With no id left, the input and line are exactly those of
        a mapping that had no ids, but for a `showUnitPrice: false` told to a variant that no longer
        has a unit price (map_product's `unit_priced`): kept, for the variant matched by its option
        value, and a variant made anew shows none."""
        if not self.sends_variant_ids:
            return self
        variants = [
            {k: v for k, v in variant.items() if k != "id" or (stale is not None and at not in stale)}
            for at, variant in enumerate(self.input["variants"])
        ]
        payload = {**self.input, "variants": variants}  # the key order kept: the same bytes
        return dataclasses.replace(self, input=payload, line=_line(self.seq_produto, orjson.dumps(payload)))

    def with_variant_ids(self, ids: Mapping[str, str]) -> MappedProduct:
        """The same product naming these variants ({idSku: variant gid}) it updates, as a mapping
        with them bound would (map_product): the digest unchanged (jobs/catalog_adopt.py)."""
        variants = [
            {"id": ids[fact["id_sku"]], **variant} if fact["id_sku"] in ids else variant
            for variant, fact in zip(self.input["variants"], self.skus, strict=True)
        ]
        payload = {**self.input, "variants": variants}
        return dataclasses.replace(self, input=payload, line=_line(self.seq_produto, orjson.dumps(payload)))

    @property
    def variables(self) -> dict[str, Any]:
        """The ProductSet variables (what `line` holds)."""
        namespace, key, value = custom_id(self.seq_produto)
        return {
            "identifier": {"customId": {"namespace": namespace, "key": key, "value": value}},
            "input": self.input,
        }


_LINE_HEAD = (
    b'{"identifier":{"customId":{"namespace":"' + CUSTOM_ID_NAMESPACE.encode()
    + b'","key":"' + CUSTOM_ID_KEY.encode() + b'","value":'
)  # fmt: skip


def map_product(
    product: Mapping[str, Any],
    skus: Iterable[Mapping[str, Any]],
    inactive_status: str = "DRAFT",
    off_sale: Collection[str] = (),
    variant_ids: Mapping[str, str] | None = None,
    unit_priced: Collection[str] = (),
) -> MappedProduct:
    """ERP product + all its SKUs -> the ProductSetInput (and digest) for Shopify. `off_sale`: the
    SKUs whose statusVenda is 'I' for the store's company and segment (the prices flow's "price"
    bindings): inactive like a packaging the ERP deactivated (consinco.md: a SKU is active when
    the packaging, statusVenda and INDINTEGRAECOMMERCE all say so). `variant_ids`: {idSku:
    ProductVariant gid} of the packagings bound to a variant of this product, sent as the
    variants' `id` and left out of the digest (module docstring). `unit_priced`: those of them
    whose variant was sent a unit price (their binding: shows_unit_price); one that has none now
    (its family no longer weighed: KG -> UN) is sent `showUnitPrice: false`, also left out of the
    digest, since productSet leaves an absent unit price as it was ("R$ x / kg" on one unit).

    Raises:
        ValueError: no SKU (a product needs at least one packaging to become a variant).
    """
    if off_sale:
        skus = [{**s, "active": False} if s["id_sku"] in off_sale else s for s in skus]
    # (quantity, id, record, quantity text), smallest packaging first: ordered_skus' order, each
    # quantity read once (and its Decimal made once per distinct text: _quantity)
    keyed = []
    some_active = False  # is_active's "at least one active packaging", seen on the way
    integrated = bool(product.get("integrate_ecommerce", True))
    held: list[dict[str, str]] = []  # weighed packagings not of 1 kg the ERP sells (module docstring)
    seen = 0
    for s in skus:
        seen += 1
        text = str(s["qtd_embalagem"])
        qty = _quantity(text)
        if not_kg(s.get("weighed"), qty):
            if integrated and s.get("active"):
                held.append({"id_sku": str(s["id_sku"]), "qtd_embalagem": text})
            if not (variant_ids and s["id_sku"] in variant_ids):
                continue  # never made a variant
            s = {**s, "active": False}  # its variant kept, off sale
        keyed.append((qty, str(s["id_sku"]), s, text))
        some_active = some_active or bool(s.get("active"))
    keyed.sort(key=_BY_QTY_AND_ID)
    if not seen:
        raise ValueError(f"product {product['seq_produto']} has no SKU")
    if inactive_status not in INACTIVE_STATUSES:  # product_status, with is_active's loop done above
        product_status(product, (), inactive_status)  # (raises)
    active = integrated and some_active
    status = ACTIVE if active else inactive_status
    labels: list[str] = []
    facts: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    wrong: list[tuple[str, str]] = []  # (idSku, code) of the wrong codes, not sent: in the digest
    weighed = bool(product.get("weighed"))
    # Two packagings with one label are kept apart, each by its own SKU: a label never depends on
    # which packagings come before it, so a new one never takes a bound variant's label (sent
    # without an id, it would be matched by that option value to the bound variant, and lost).
    plain = [("KG" if s.get("weighed") else _box_label(s.get("packaging"), text)) for _, _, s, text in keyed]
    shared = {label for label in plain if plain.count(label) > 1}
    for (qty, _, sku, text), label in zip(keyed, plain, strict=True):
        sku_weighed = bool(sku.get("weighed"))
        weighed = weighed or sku_weighed
        if label in shared:
            label = f"{label} ({sku['id_sku']})"
        labels.append(label)
        sellable = bool(active and sku.get("active"))
        ean = sku.get("ean")
        code = str(ean or "").strip()  # (_code)
        problem = _code_problem(code, sku_weighed) if code else None
        fact = {
            "id_sku": sku["id_sku"],
            "qtd_embalagem": text,
            "weighed": sku_weighed,
            "ean": ean,
            "active": sellable,
            "label": label,
        }
        if problem is not None:  # only then: the usual facts stay as they were
            fact["barcode_problem"] = problem
            if problem != SCALE_CODE:
                wrong.append((fact["id_sku"], code))
        facts.append(fact)
        variants.append(_variant(sku, label, qty, code if code and problem is None else None, sellable))
    payload: dict[str, Any] = {
        "title": _title(product),
        "descriptionHtml": description_html(product),
        "vendor": _within(product.get("brand") or ""),
        "productType": _within(product.get("category") or product.get("family") or ""),
        "status": status,
        "productOptions": [{"name": OPTION_NAME, "values": [{"name": label} for label in labels]}],
        "variants": variants,
    }
    seq = int(product["seq_produto"])
    encoded = orjson.dumps(payload)
    # Weighed items always sell in the same unit; carrying it in the digest re-sends on a change.
    tail = _WEIGHED_TAIL if weighed else _UNWEIGHED_TAIL
    if wrong:
        tail = _not_sent_tail(tail, wrong)
    if held:  # (one the ERP starts selling changes no input: its message is told all the same)
        tail = tail[:-1] + b',"held":' + orjson.dumps([h["id_sku"] for h in held]) + b"}"
    digest = _digest(encoded, tail)
    if variant_ids:
        bound = [variant_ids.get(fact["id_sku"]) for fact in facts]
        if any(bound):  # after the digest: Shopify's ids are no content of the ERP's
            variants[:] = [
                v if i is None else _bound_variant(i, v, fact["id_sku"] in unit_priced)
                for i, v, fact in zip(bound, variants, facts, strict=True)
            ]
            encoded = orjson.dumps(payload)
    return MappedProduct(seq, payload, digest, status, facts, _line(seq, encoded), tuple(held))


def _bound_variant(variant_id: str, variant: dict[str, Any], unit_priced: bool) -> dict[str, Any]:
    """A variant's input naming the bound variant it updates; told to stop showing the unit price
    it was sent before when it has none now (map_product's `unit_priced`). Neither is in the
    digest: a product whose family stopped being weighed changed its labels, so it is sent anyway,
    and the next send, its binding no longer weighed, adds nothing (no digest of the catalog moves)."""
    if unit_priced and "showUnitPrice" not in variant:
        return {"id": variant_id, **variant, "showUnitPrice": False}
    return {"id": variant_id, **variant}


def _line(seq: int, encoded_input: bytes) -> bytes:
    """The bulk JSONL line of a product: its ProductSet variables around the input's bytes."""
    return b"".join((_LINE_HEAD, b'"%d"}},"input":' % seq, encoded_input, b"}"))


_BY_QTY_AND_ID = operator.itemgetter(0, 1)
_WEIGHED_TAIL = b',"unit_kg":' + orjson.dumps(_text(WEIGHED_SALE_UNIT_KG)) + b"}"
_UNWEIGHED_TAIL = b',"unit_kg":null}'


def _not_sent_tail(tail: bytes, wrong: list[tuple[str, str]]) -> bytes:
    """The digest's tail with the wrong codes not sent as barcodes ([[idSku, code]...]): a wrong
    code changed in the ERP to another wrong one sends the same input (no barcode either way), yet
    the product is sent once more, so its variant binding keeps the ERP's code and its message
    names the code to correct now, not the one already corrected. Only products with a wrong code
    hash it: every other digest stays (a scale code, no mistake, is left out likewise)."""
    return tail[:-1] + b',"barcodes_not_sent":' + orjson.dumps(wrong) + b"}"


def _digest(encoded_input: bytes, tail: bytes) -> str:
    """SHA-256 of {"input": <input>, "unit_kg": ...[, "barcodes_not_sent": ...][, "held": ...]} as
    orjson writes it (no whitespace, UTF-8), from the input's bytes.

    The input holds plain JSON values only, built by this module in a fixed key order, so the
    serialisation alone is canonical (no key sort needed) and far cheaper than ledger.digest's
    generic walk: on a 50,000-SKU load it matters. A code change that reorders keys (or, as
    here, changes the encoder) re-sends each product once, as any mapping change does.
    """
    hashed = hashlib.sha256(b'{"input":')
    hashed.update(encoded_input)
    hashed.update(tail)
    return hashed.hexdigest()
