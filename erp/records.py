"""Typed records the ERP client returns and accepts: no flow ever sees a raw Consinco dict.

Money and quantities are Decimal (JSON numbers parsed exactly), date-times are aware UTC.
Field meanings follow docs/consinco-api.md; the Consinco source is named where it helps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# ---------------------------------------------------------------- catalogue

SKU_ID = re.compile(r"^P(\d+)E(\d+(?:\.\d+)?)$")  # idSku: P{seqProduto}E{qtdEmbalagem}


def parse_sku(id_sku: str) -> tuple[int, Decimal] | None:
    """(seqProduto, qtdEmbalagem) from the SKU convention `P{seq}E{qtd}`; None when it does not match."""
    match = SKU_ID.match(id_sku)
    if match is None:
        return None
    return int(match.group(1)), Decimal(match.group(2))


@dataclass(frozen=True, slots=True)
class Product:
    """MAP_PRODUTO + MAP_FAMILIA: the product (one per SEQPRODUTO)."""

    seq_produto: int
    seq_familia: int | None
    description: str
    short_description: str | None
    family: str | None
    brand: str | None
    category: str | None
    weighed: bool
    decimal_qty: bool
    ncm: str | None
    cest: str | None
    manufacturer_ref: str | None
    integrate_ecommerce: bool
    created_at: datetime | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Sku:
    """One product x packaging (idSku `P{seq}E{qtd}`), e.g. unit "CX-12"."""

    id_sku: str
    seq_produto: int
    qtd_embalagem: Decimal
    packaging: str
    unit: str | None
    description: str | None
    ean: str | None
    weighed: bool
    gross_weight: Decimal | None
    net_weight: Decimal | None
    packaging_status: str | None
    integrate_ecommerce: bool
    active: bool
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class BarCode:
    code: str
    code_type: str | None
    for_sale: bool


@dataclass(frozen=True, slots=True)
class SpecAttribute:
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    order: int


@dataclass(frozen=True, slots=True)
class SkuSpec:
    """Barcodes, attributes (NCM, brand, weights...) and images of one SKU."""

    id_sku: str
    seq_produto: int
    qtd_embalagem: Decimal
    codes: tuple[BarCode, ...]
    specs: tuple[SpecAttribute, ...]
    images: tuple[Image, ...]
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class PriceTable:
    """One company's price table, with the segments it prices."""

    nro_empresa: int
    name: str
    segments: tuple[int, ...]
    status: str
    active: bool
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class PriceItem:
    """MRL_PRODEMPSEG: the price of one packaging for company x segment (per kg when weighed)."""

    nro_empresa: int
    nro_segmento: int
    seq_produto: int
    qtd_embalagem: Decimal
    id_sku: str
    normal: Decimal
    promotional: Decimal | None
    promo_start: date | None
    promo_end: date | None
    promotion_running: bool
    effective: Decimal
    sale_status: str
    sale_active: bool
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class SkuStock:
    """Whole packagings available for e-commerce (None when stock is not controlled)."""

    id_sku: str
    qtd_embalagem: Decimal
    available_ecommerce: Decimal | None


@dataclass(frozen=True, slots=True)
class Stock:
    """MRL_PRODUTOEMPRESA: stock of one product at one company, in base units (UN or kg)."""

    nro_empresa: int
    seq_produto: int
    store: Decimal
    warehouse: Decimal
    third_party: Decimal
    exchange: Decimal
    reserved_sale: Decimal
    reserved_receiving: Decimal
    reserved_fixed: Decimal
    available: Decimal | None  # the API's total (qtdDisponivel), when served: the app computes its own
    controlled: bool
    safety: Decimal
    available_ecommerce: Decimal | None
    skus: tuple[SkuStock, ...]
    changed_at: datetime
    last_movement_at: datetime | None


@dataclass(frozen=True, slots=True)
class Company:
    nro_empresa: int
    short_name: str
    legal_name: str | None
    cnpj: str | None
    uf: str | None
    city: str | None
    main_segment: int | None
    division: int | None
    status: str
    active: bool
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Segment:
    nro_segmento: int
    description: str
    price_by_packaging: bool
    status: str
    active: bool
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    nro_forma_pagto: int
    name: str
    kind: str | None
    status: str
    active: bool
    changed_at: datetime | None


# ---------------------------------------------------------------- orders as read


@dataclass(frozen=True, slots=True)
class OrderLine:
    """MAD_PEDVENDAITEM; quantities in packagings, whatever unit the ERP counts them in
    (formats.quantity_unit); qty_served is None until separation (weighed kg for KG items).
    `discount` is the line's (of its ordered quantity), whatever way the ERP writes it
    (formats.discount_per)."""

    seq_item: int
    id_sku: str | None
    seq_produto: int
    ean: str | None
    qtd_embalagem: Decimal
    qty_ordered: Decimal
    qty_served: Decimal | None
    table_price: Decimal | None
    promo_price: Decimal | None
    unit_price: Decimal
    discount: Decimal
    total_ordered: Decimal | None
    total_served: Decimal | None
    weighed: bool
    replaces_seq_item: int | None

    @property
    def is_substitute(self) -> bool:
        return self.replaces_seq_item is not None


@dataclass(frozen=True, slots=True)
class Invoice:
    """MFL_DOCTOFISCAL: an NF-e (model 55) or NFC-e (65); status 'V' valid, 'C' cancelled (the
    installation's codes read as these: erp.names formats nfe_valid / nfe_cancelled), else the code
    the ERP wrote: neither."""

    seq_nf: int | None
    key: str
    number: int
    series: str
    model: str
    status: str
    issued_at: datetime
    total: Decimal
    issuer_cnpj: str | None
    danfe_url: str | None
    xml_url: str | None

    @property
    def cancelled(self) -> bool:
        return self.status == "C"

    @property
    def valid(self) -> bool:
        return self.status == "V"


@dataclass(frozen=True, slots=True)
class Tracking:
    carrier: str | None
    code: str
    url: str | None


@dataclass(frozen=True, slots=True)
class OrderCard:
    """The card data recorded on a payment form (POST PedidoVenda/PagamentoCartao [assumed path]),
    as read back under the order's payment forms; each field None when the ERP holds none."""

    nsu: str | None
    card_number: str | None  # masked
    network: int | None  # codRede
    brand: int | None  # codBandeira
    bin: str | None  # codBin
    authorization: str | None  # nroAutorizacao


@dataclass(frozen=True, slots=True)
class OrderPayment:
    """MAD_PEDVENDAFORMAPAGTO as read back; `card` is what record_card_payment left on it (None
    until then, or when the ERP's order record does not carry it)."""

    nro_forma_pagto: int
    amount: Decimal
    installments: int | None
    channel_payment_id: str | None = None  # idPagtoCanalVenda
    card: OrderCard | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """MAD_PEDVENDA as read back; situacao D/A/L/S/F/C."""

    nro_pedvenda: int
    seq_canal_venda: int | None
    channel_order_id: str | None
    nro_empresa: int
    nro_segmento: int | None
    situacao: str
    cod_geral_oper: int | None
    seq_pessoa: int | None
    cpf_cnpj: str | None
    freight: Decimal
    total: Decimal
    total_served: Decimal | None
    obs: str | None
    created_at: datetime | None
    changed_at: datetime | None
    status_changed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    lines: tuple[OrderLine, ...]
    payments: tuple[OrderPayment, ...]
    invoices: tuple[Invoice, ...]


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One immutable EventoPedido: S (separated), F (invoiced), C (cancelled)."""

    seq_evento: int
    kind: str
    nro_pedvenda: int
    seq_canal_venda: int | None
    channel_order_id: str | None
    nro_empresa: int
    situacao: str | None
    occurred_at: datetime
    altered: bool
    total: Decimal | None
    total_served: Decimal | None
    lines: tuple[OrderLine, ...]
    invoice: Invoice | None
    tracking: Tracking | None
    cancel_reason: str | None
    nfe_cancelled: bool


# ---------------------------------------------------------------- orders to write

OWN_PLATFORM, THIRD_PARTY_PLATFORM = 0, 1  # NF-e indIntermed: the order's indIntermediador
INTERMEDIARY = (OWN_PLATFORM, THIRD_PARTY_PLATFORM)


@dataclass(frozen=True, slots=True)
class CustomerInput:
    """clienteDto: upserted by the ERP into GE_PESSOA by document (CPF 11 / CNPJ 14 chars)."""

    cpf_cnpj: str
    name: str | None  # None: not sent (the ERP keeps its register's name, or gives a new one its default)
    person_type: str = "F"
    email: str | None = None
    phone_ddd: str | None = None
    phone_number: str | None = None
    cep: str | None = None
    street: str | None = None
    number: str | None = None
    complement: str | None = None
    district: str | None = None
    city: str | None = None
    uf: str | None = None
    country: str | None = "BRASIL"
    state_registration: str | None = None
    trade_name: str | None = None
    sex: str | None = None
    birth_date: date | None = None
    nfe_email: str | None = None
    marital_status: str | None = None
    icms_contributor: str | None = None  # S | N; None: not sent (the ERP keeps what it has)


@dataclass(frozen=True, slots=True)
class OrderLineInput:
    """itemDto: by EAN (which fixes the packaging) or by seq_produto + qtd_embalagem.

    `qty` counts packagings (kg for weighed items); prices are per packaging. An ERP counting
    base units (formats.quantity_unit) gets qty x qtd_embalagem: jobs/order_map.py always sets it.
    `discount` is the whole line's; an ERP reading it per packaging (formats.discount_per) gets
    discount / qty.
    """

    qty: Decimal
    ean: str | None = None
    seq_produto: int | None = None
    qtd_embalagem: Decimal | None = None
    unit_price: Decimal | None = None
    table_price: Decimal | None = None
    promo_price: Decimal | None = None
    discount: Decimal = Decimal("0")
    note: str | None = None

    def __post_init__(self) -> None:
        if self.ean is None and self.seq_produto is None:
            raise ValueError("an order line needs an EAN or a seq_produto")


@dataclass(frozen=True, slots=True)
class PaymentInput:
    nro_forma_pagto: int
    amount: Decimal
    installments: int = 1
    channel_payment_id: str | None = None


# A card number showing more than this many digits is no masked number: PCI DSS lets a merchant
# show at most the first six to eight (the BIN) and the last four.
MASKED_DIGITS = 12


@dataclass(frozen=True, slots=True)
class CardPaymentInput:
    """One card payment of an order the ERP holds (found by seqCanalVenda + idPedidoCanalVenda), for the
    ERP's card receivables (the acquirer's statement is reconciled by NSU and authorisation)."""

    seq_canal_venda: int
    channel_order_id: str
    channel_payment_id: str  # the order's payment form's idPagtoCanalVenda
    nsu: str | None = None
    card_number: str | None = None  # masked, e.g. "411111******1111" or "************1111"
    network: int | None = None  # codRede (the acquirer network)
    brand: int | None = None  # codBandeira
    bin: str | None = None  # codBin, 6-8 digits
    authorization: str | None = None  # nroAutorizacao

    def __post_init__(self) -> None:
        # A whole card number must never leave the app (nor be stored by the ERP): refused here,
        # before any request, whatever the ERP would do with it.
        number = self.card_number
        if number is not None:
            digits = sum(c.isdigit() for c in number)
            unmasked = number.replace(" ", "").replace("-", "").isdigit()
            if digits > MASKED_DIGITS or (digits > 4 and unmasked):
                raise ValueError("card_number must be masked (at most the BIN and the last four digits)")


@dataclass(frozen=True, slots=True)
class OrderInput:
    """The body of POST PedidoVenda; (seq_canal_venda, channel_order_id) is the idempotency key."""

    seq_canal_venda: int
    channel_order_id: str
    ordered_at: datetime
    nro_empresa: int
    cod_geral_oper: int
    customer: CustomerInput
    lines: tuple[OrderLineInput, ...]
    payments: tuple[PaymentInput, ...] = ()
    nro_segmento: int | None = None
    delivery_type: str = "E"
    freight: Decimal = Decimal("0")
    obs: str | None = None
    invoice_obs: str | None = None
    price_table: int | None = None  # nroTabVenda (setting nro_tab_venda); None: sent null
    # nroRepresentante (setting nro_representante): the sales representative the ERP files the
    # order under; None: left out of the body, so the ERP applies its own default
    representative: int | None = None
    carrier: int | None = None  # seqTransportador (De:Para "carrier"); None: the ERP's default
    # indIntermediador, the NF-e's indIntermed (layout 4.00, NT 2020.006): 0 sold on the merchant's
    # own site or platform (the Shopify store), 1 on a third party's platform (a marketplace)
    intermediary: int = 0

    def __post_init__(self) -> None:
        if self.intermediary not in INTERMEDIARY or isinstance(self.intermediary, bool):
            raise ValueError(f"intermediary must be 0 or 1 (NF-e indIntermed), not {self.intermediary!r}")


@dataclass(frozen=True, slots=True)
class InsertResult:
    """What POST PedidoVenda answered; duplicated=True means the first order's number came back."""

    nro_pedvenda: int
    duplicated: bool
    situacao: str | None  # None: the answer did not say (the order read's SITUACAOPED says it later)
    seq_pessoa: int | None = None
    total: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The setup page's "test connection" answer: ok plus a message a merchant can act on (English,
    for logs and API clients); when not ok, `code` says why in a word the page turns into its own
    language ("login_refused", "address_refused", "unreachable", "refused", "unexpected_shape",
    "bad_address") and `detail` keeps the ERP's (or the transport's) own words."""

    ok: bool
    message: str
    companies: tuple[int, ...] = field(default=())
    code: str | None = None
    detail: str = ""
