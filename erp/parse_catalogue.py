"""Pure functions: one Consinco catalogue record (a dict from the API) -> one typed record.

Each raises ErpUnexpectedShape naming the endpoint and the wire field it could not read.
`names` lets an installation rename fields (erp/names.py); the default is the contract's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erp import codes
from erp import fields as f
from erp.errors import ErpUnexpectedShape
from erp.names import NAMES, Names
from erp.records import (
    BarCode,
    Company,
    Image,
    PaymentMethod,
    PriceItem,
    PriceTable,
    Product,
    Segment,
    Sku,
    SkuSpec,
    SkuStock,
    SpecAttribute,
    Stock,
)

_ZERO = Decimal(0)


def parse_product(raw: Any, names: Names = NAMES) -> Product:
    n, w = names.fields["product"], names.paths["products"]
    r = f.obj(raw, w)
    return Product(
        seq_produto=f.int_(r, n["seq_produto"], w),
        seq_familia=f.opt_int(r, n["seq_familia"], w),
        description=f.str_(r, n["description"], w),
        short_description=f.opt_str(r, n["short_description"], w),
        family=f.opt_str(r, n["family"], w),
        brand=f.opt_str(r, n["brand"], w),
        category=f.opt_str(r, n["category"], w),
        weighed=f.flag(r, n["weighed"], w, default=False),
        decimal_qty=f.flag(r, n["decimal_qty"], w, default=False),
        ncm=codes.opt_padded(r, n["ncm"], w, codes.NCM_DIGITS),  # (a number lost its leading zeros)
        cest=codes.opt_padded(r, n["cest"], w, codes.CEST_DIGITS),
        manufacturer_ref=f.opt_str(r, n["manufacturer_ref"], w),
        integrate_ecommerce=f.flag(r, n["integrate_ecommerce"], w, default=True),
        created_at=f.opt_when(r, n["created_at"], w, names.zone),
        changed_at=f.when(r, n["changed_at"], w, names.zone),
    )


def parse_sku(raw: Any, names: Names = NAMES) -> Sku:
    n, w = names.fields["sku"], names.paths["skus"]
    r = f.obj(raw, w)
    weighed = f.flag(r, n["weighed"], w, default=False)
    status = f.opt_str(r, n["packaging_status"], w)
    integrate = f.flag(r, n["integrate_ecommerce"], w, default=True)
    return Sku(
        id_sku=f.str_(r, n["id_sku"], w),
        seq_produto=f.int_(r, n["seq_produto"], w),
        qtd_embalagem=f.positive(r, n["qtd_embalagem"], w),
        packaging=f.str_(r, n["packaging"], w),
        unit=f.opt_str(r, n["unit"], w),  # not used by the catalog: a record without it is read
        description=f.opt_str(r, n["description"], w),
        ean=codes.opt_ean(r, n["ean"], w, weighed),  # (a number lost its leading zeros)
        weighed=weighed,
        gross_weight=f.opt_dec(r, n["gross_weight"], w),
        net_weight=f.opt_dec(r, n["net_weight"], w),
        packaging_status=status,
        integrate_ecommerce=integrate,
        # `ativo` as served; without it, the packaging's STATUS and the product's INDINTEGRAECOMMERCE
        # (the reference's rule; STATUSVENDA is per company and segment: the prices flow reads it)
        active=f.flag(r, n["active"], w, default=None if status is None else status == "A" and integrate),
        changed_at=f.when(r, n["changed_at"], w, names.zone),
    )


def parse_sku_spec(raw: Any, names: Names = NAMES) -> SkuSpec:
    n, w = names.fields["sku_spec"], names.paths["sku_specs"]
    r = f.obj(raw, w)
    codes = tuple(
        BarCode(
            code=f.str_(c, n["code"], w),
            code_type=f.opt_str(c, n["code_type"], w),
            for_sale=f.flag(c, n["code_for_sale"], w, default=True),
        )
        for c in (f.obj(x, w, n["codes"]) for x in f.seq(r, n["codes"], w))
    )
    specs = tuple(
        SpecAttribute(name=f.str_(s, n["spec_name"], w), value=f.opt_str(s, n["spec_value"], w))
        for s in (f.obj(x, w, n["specs"]) for x in f.seq(r, n["specs"], w))
    )
    images = tuple(
        Image(url=f.str_(i, n["image_url"], w), order=f.opt_int(i, n["image_order"], w) or 0)
        for i in (f.obj(x, w, n["images"]) for x in f.seq(r, n["images"], w))
    )
    return SkuSpec(
        id_sku=f.str_(r, n["id_sku"], w),
        seq_produto=f.int_(r, n["seq_produto"], w),
        qtd_embalagem=f.positive(r, n["qtd_embalagem"], w),
        codes=codes,
        specs=specs,
        images=tuple(sorted(images, key=lambda i: i.order)),
        changed_at=f.when(r, n["changed_at"], w, names.zone),
    )


def parse_price_table(raw: Any, names: Names = NAMES) -> PriceTable:
    n, w = names.fields["price_table"], names.paths["price_tables"]
    r = f.obj(raw, w)
    segments = f.seq(r, n["segments"], w)
    if not all(type(s) is int for s in segments):
        raise ErpUnexpectedShape(w, n["segments"], "is not a list of integers", segments)
    status = f.str_(r, n["status"], w)
    return PriceTable(
        nro_empresa=f.int_(r, n["nro_empresa"], w),
        name=f.str_(r, n["name"], w),
        segments=tuple(segments),
        status=status,
        active=status == "A",
        changed_at=f.when(r, n["changed_at"], w, names.zone),
    )


def parse_price_item(raw: Any, names: Names = NAMES) -> PriceItem:
    n, w = names.fields["price_item"], names.paths["price_items"]
    r = f.obj(raw, w)
    promotional = f.opt_dec(r, n["promotional"], w)
    if promotional is not None and not promotional:
        promotional = None  # Consinco stores "no promotion" as 0
    normal = f.dec(r, n["normal"], w)
    running = f.flag(r, n["promotion_running"], w, default=False) and promotional is not None
    effective = f.opt_dec(r, n["effective"], w)
    status = f.str_(r, n["sale_status"], w)
    return PriceItem(
        nro_empresa=f.int_(r, n["nro_empresa"], w),
        nro_segmento=f.int_(r, n["nro_segmento"], w),
        seq_produto=f.int_(r, n["seq_produto"], w),
        qtd_embalagem=f.positive(r, n["qtd_embalagem"], w),
        id_sku=f.str_(r, n["id_sku"], w),
        normal=normal,
        promotional=promotional,
        promo_start=f.opt_day(r, n["promo_start"], w),
        promo_end=f.opt_day(r, n["promo_end"], w),
        promotion_running=running,
        effective=effective if effective is not None else (promotional if running else normal),
        sale_status=status,
        sale_active=status == "A",
        changed_at=f.when(r, n["changed_at"], w, names.zone),
    )


def parse_stock(raw: Any, names: Names = NAMES) -> Stock:
    n, w = names.fields["stock"], names.paths["stock"]
    r = f.obj(raw, w)
    # only 'N' (false) lifts the stock control (INDCONTROLAESTOQUEECOMM, reference): a null controls
    controlled = f.flag(r, n["controlled"], w, default=True)
    skus = tuple(
        SkuStock(
            id_sku=f.str_(s, n["sku_id"], w),
            qtd_embalagem=f.positive(s, n["sku_qtd_embalagem"], w),
            available_ecommerce=f.opt_dec(s, n["sku_available"], w) if controlled else None,
        )
        for s in (f.obj(x, w, n["skus"]) for x in f.seq(r, n["skus"], w))
    )
    return Stock(
        nro_empresa=f.int_(r, n["nro_empresa"], w),
        seq_produto=f.int_(r, n["seq_produto"], w),
        store=f.dec(r, n["store"], w),
        warehouse=f.dec(r, n["warehouse"], w),
        third_party=f.dec(r, n["third_party"], w),
        exchange=f.dec(r, n["exchange"], w),
        reserved_sale=f.dec(r, n["reserved_sale"], w),
        reserved_receiving=f.dec(r, n["reserved_receiving"], w),
        reserved_fixed=f.dec(r, n["reserved_fixed"], w),
        available=f.opt_dec(r, n["available"], w),  # the API's own total: the app computes its figure
        controlled=controlled,
        safety=f.opt_dec(r, n["safety"], w) or _ZERO,
        available_ecommerce=f.opt_dec(r, n["available_ecommerce"], w) if controlled else None,
        skus=skus,
        changed_at=f.when(r, n["changed_at"], w, names.zone),
        last_movement_at=f.opt_when(r, n["last_movement_at"], w, names.zone),
    )


def parse_company(raw: Any, names: Names = NAMES) -> Company:
    n, w = names.fields["company"], names.paths["companies"]
    r = f.obj(raw, w)
    status = f.str_(r, n["status"], w)
    return Company(
        nro_empresa=f.int_(r, n["nro_empresa"], w),
        short_name=f.str_(r, n["short_name"], w),
        legal_name=f.opt_str(r, n["legal_name"], w),
        cnpj=f.opt_str(r, n["cnpj"], w),
        uf=f.opt_str(r, n["uf"], w),
        city=f.opt_str(r, n["city"], w),
        main_segment=f.opt_int(r, n["main_segment"], w),
        division=f.opt_int(r, n["division"], w),
        status=status,
        active=status == "A",
        changed_at=f.opt_when(r, n["changed_at"], w, names.zone),
    )


def parse_segment(raw: Any, names: Names = NAMES) -> Segment:
    n, w = names.fields["segment"], names.paths["segments"]
    r = f.obj(raw, w)
    status = f.str_(r, n["status"], w)
    return Segment(
        nro_segmento=f.int_(r, n["nro_segmento"], w),
        description=f.str_(r, n["description"], w),
        price_by_packaging=f.flag(r, n["price_by_packaging"], w, default=False),
        status=status,
        active=status == "A",
        changed_at=f.opt_when(r, n["changed_at"], w, names.zone),
    )


def parse_payment_method(raw: Any, names: Names = NAMES) -> PaymentMethod:
    n, w = names.fields["payment_method"], names.paths["payment_methods"]
    r = f.obj(raw, w)
    status = f.str_(r, n["status"], w)
    return PaymentMethod(
        nro_forma_pagto=f.int_(r, n["nro_forma_pagto"], w),
        name=f.str_(r, n["name"], w),
        kind=f.opt_str(r, n["kind"], w),
        status=status,
        active=status == "A",
        changed_at=f.opt_when(r, n["changed_at"], w, names.zone),
    )
