"""ErpClient: the one way the app talks to Consinco's SmPedidoVendaAPI.

Flows call typed methods and get typed records (erp/records.py); they never build a URL, name a
Consinco field or see a raw dict. Incremental reads return a ChangeRead: iterate it, then
advance the watermark to `read.snapshot` (see erp/paging.py for the overlap and dedupe rules).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

import requests

from erp import parse_catalogue as pc
from erp import parse_orders as po
from erp.errors import (
    ErpAddressRefused,
    ErpAuthError,
    ErpFilterIgnored,
    ErpRejected,
    ErpTransient,
    ErpUnexpectedShape,
)
from erp.names import NAMES, Names
from erp.paging import ChangeRead, Key
from erp.payloads import cancel_payload, card_payment_payload, edit_payload, order_payload
from erp.records import (
    CardPaymentInput,
    Company,
    ConnectionCheck,
    InsertResult,
    Order,
    OrderEvent,
    OrderInput,
    OrderLineInput,
    PaymentInput,
    PaymentMethod,
    PriceItem,
    PriceTable,
    Product,
    Segment,
    Sku,
    SkuSpec,
    Stock,
)
from erp.retry import RetryPolicy
from erp.transport import DEFAULT_TIMEOUT, Transport

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
# The filters a read checks its records against (a record's own company and segment).
FILTERED_FIELDS = ("nro_empresa", "nro_segmento")
# A client built by hand reads this overlap; the flows' (erp.factory.for_shop) read the setting
# ERP_READ_OVERLAP (settings.py, 120 s unless set): how long after its change time (stamped at the
# UPDATE) the ERP may commit a row and an incremental read still see it.
DEFAULT_OVERLAP = timedelta(seconds=120)


@dataclass(frozen=True)
class Resource:
    """A paged list endpoint: how to parse a record, its key and its change time."""

    path_key: str
    parse: Callable[[Any, Names], Any]
    key: Callable[[Any], Hashable]
    changed: Callable[[Any], datetime | None]
    filters: tuple[str, ...] = ()


_CHANGED = attrgetter("changed_at")

RESOURCES: dict[str, Resource] = {
    "products": Resource("products", pc.parse_product, attrgetter("seq_produto"), _CHANGED),
    "skus": Resource("skus", pc.parse_sku, attrgetter("seq_produto", "qtd_embalagem"), _CHANGED),
    "sku_specs": Resource(
        "sku_specs", pc.parse_sku_spec, attrgetter("seq_produto", "qtd_embalagem"), _CHANGED
    ),
    "price_tables": Resource(
        "price_tables",
        pc.parse_price_table,
        attrgetter("nro_empresa"),
        _CHANGED,
        ("nro_empresa", "nro_divisao"),
    ),
    "price_items": Resource(
        "price_items",
        pc.parse_price_item,
        attrgetter("nro_empresa", "nro_segmento", "seq_produto", "qtd_embalagem"),
        _CHANGED,
        ("nro_empresa", "nro_segmento", "nro_divisao"),
    ),
    "stock": Resource(
        "stock",
        pc.parse_stock,
        attrgetter("nro_empresa", "seq_produto"),
        _CHANGED,
        ("nro_empresa", "nro_divisao"),
    ),
    "companies": Resource(
        "companies", pc.parse_company, attrgetter("nro_empresa"), _CHANGED, ("nro_divisao",)
    ),
    "segments": Resource("segments", pc.parse_segment, attrgetter("nro_segmento"), _CHANGED),
    "payment_methods": Resource(
        "payment_methods", pc.parse_payment_method, attrgetter("nro_forma_pagto"), _CHANGED
    ),
    "order_events": Resource(
        "order_events",
        po.parse_order_event,
        attrgetter("seq_evento"),
        attrgetter("occurred_at"),
        ("nro_empresa",),
    ),
}


class Companies(list[Company]):
    """ErpClient.companies: the companies read, and those whose record could not be (number -> why)."""

    def __init__(self, companies: Any = ()) -> None:
        super().__init__(companies)
        self.unreadable: dict[int, ErpUnexpectedShape] = {}


class ErpClient:
    """A logged-in SmPedidoVendaAPI client; thread-safe (share one per shop per process)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        page_size: int = 500,
        overlap: timedelta = DEFAULT_OVERLAP,
        retry: RetryPolicy | None = None,
        names: Names = NAMES,
        on_login: Callable[[], None] | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        if overlap < timedelta(0):
            raise ValueError("overlap must not be negative")
        self.transport = Transport(base_url, username, password, session=session, timeout=timeout,
                                   retry=retry, names=names, on_login=on_login)  # fmt: skip
        self.page_size = page_size
        self.overlap = overlap
        self.names = names

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    def close(self) -> None:
        self.transport.session.close()

    # ------------------------------------------------------------------ paged reads

    def changed_since(
        self,
        resource: str,
        since: datetime | None,
        *,
        skip: Collection[Key] = (),
        page_size: int | None = None,
        **filters: int | None,
    ) -> ChangeRead[Any]:
        """Records of `resource` changed at or after `since - overlap` (everything when None).

        `filters` are nro_empresa / nro_segmento / nro_divisao where the resource has them
        (None values are left out); `skip` is a previous read's `.boundary`.
        """
        spec = RESOURCES[resource]
        unknown = set(filters) - set(spec.filters)
        if unknown:
            raise ValueError(f"{resource} cannot be filtered by {', '.join(sorted(unknown))}")
        params = {self.names.params[k]: v for k, v in filters.items() if v is not None}
        names = self.names

        def fetch(query: dict[str, Any]) -> Any:
            return self.transport.call("GET", spec.path_key, params=query)[1]

        endpoint = names.paths[spec.path_key]
        checked = {k: v for k, v in filters.items() if v is not None and k in FILTERED_FIELDS}

        def parse(raw: Any) -> Any:
            record = spec.parse(raw, names)
            for attr, wanted in checked.items():  # the server applied the filter, or the read fails
                got = getattr(record, attr, wanted)
                if got is not None and got != wanted:
                    raise ErpFilterIgnored(
                        endpoint, names.params[attr],
                        f"is not applied by the server: a record of {attr} {got} came for {wanted} (is the "
                        "parameter named otherwise? CONSINCO_FIELD_MAP)", got,
                    )  # fmt: skip
            return record

        return ChangeRead(
            endpoint=endpoint,
            fetch=fetch,
            parse=parse if checked else (lambda raw: spec.parse(raw, names)),
            key=spec.key,
            changed=spec.changed,
            names=names,
            since=since,
            overlap=self.overlap,
            page_size=min(page_size or self.page_size, MAX_PAGE_SIZE),
            filters=params,
            skip=skip,
        )

    def products(self, since: datetime | None = None, *, skip: Collection[Key] = ()) -> ChangeRead[Product]:
        return self.changed_since("products", since, skip=skip)

    def skus(self, since: datetime | None = None, *, skip: Collection[Key] = ()) -> ChangeRead[Sku]:
        return self.changed_since("skus", since, skip=skip)

    def sku_specs(self, since: datetime | None = None, *, skip: Collection[Key] = ()) -> ChangeRead[SkuSpec]:
        return self.changed_since("sku_specs", since, skip=skip)

    def price_items(
        self,
        since: datetime | None = None,
        nro_empresa: int | None = None,
        nro_segmento: int | None = None,
        *,
        skip: Collection[Key] = (),
    ) -> ChangeRead[PriceItem]:
        return self.changed_since(
            "price_items", since, skip=skip, nro_empresa=nro_empresa, nro_segmento=nro_segmento
        )

    def stock(
        self, since: datetime | None = None, nro_empresa: int | None = None, *, skip: Collection[Key] = ()
    ) -> ChangeRead[Stock]:
        return self.changed_since("stock", since, skip=skip, nro_empresa=nro_empresa)

    def order_events(
        self, since: datetime | None = None, nro_empresa: int | None = None, *, skip: Collection[Key] = ()
    ) -> ChangeRead[OrderEvent]:
        return self.changed_since("order_events", since, skip=skip, nro_empresa=nro_empresa)

    def price_tables(self) -> list[PriceTable]:
        return list(self.changed_since("price_tables", None))

    def companies(self, nro_divisao: int | None = None) -> Companies:
        """The ERP's companies (stores). A record the client cannot read is set aside in
        `unreadable` by its company number, and the others are listed: one bad record of a store
        this shop does not sync must not stop its stock pass, nor every NF-e's check of its
        issuer. A record whose number cannot be read either fails the whole read (which company it
        is, and so whether a mapped one is missing from the list, cannot be told)."""
        read = self.changed_since("companies", None, nro_divisao=nro_divisao)
        read.keep_malformed = True
        found = Companies(read)
        number = self.names.fields["company"]["nro_empresa"]
        for raw, exc in read.malformed:
            value = raw.get(number) if isinstance(raw, dict) else None
            if type(value) is not int:
                raise exc
            found.unreadable[value] = exc
            logger.warning("consinco: company %s's record cannot be read: %s", value, exc)
        return found

    def segments(self) -> list[Segment]:
        return list(self.changed_since("segments", None))

    def payment_methods(self) -> list[PaymentMethod]:
        return list(self.changed_since("payment_methods", None))

    # ------------------------------------------------------------------ orders

    def get_order(self, nro_pedvenda: int) -> Order:
        _, body = self.transport.call("GET", "order", path_args={"nro": nro_pedvenda})
        return po.parse_order(body, self.names)

    def insert_order(self, order: OrderInput) -> InsertResult:
        """POST PedidoVenda. A repeat of the same (seqCanalVenda, idPedidoCanalVenda) is not an
        error: the ERP answers 200 with the first order's number and `duplicated=True`."""
        _, body = self.transport.call("POST", "orders", body=order_payload(order, self.names))
        result = po.parse_insert_result(body, self.names)
        logger.info("consinco: order %s -> nroPedVenda %s%s", order.channel_order_id, result.nro_pedvenda,
                    " (already there)" if result.duplicated else "")  # fmt: skip
        return result

    def edit_order(self, nro_pedvenda: int, lines: Sequence[OrderLineInput] | None = None,
                   freight: Decimal | None = None, obs: str | None = None,
                   payments: Sequence[PaymentInput] | None = None) -> Order:  # fmt: skip
        """PUT PedidoVenda/{nro}: `lines` replaces all lines, `payments` all payment forms. 409
        (separating, invoiced, cancelled) arrives as ErpRejected with the ERP's codigo."""
        body = edit_payload(None if lines is None else tuple(lines), freight, obs, self.names,
                            None if payments is None else tuple(payments))  # fmt: skip
        _, answer = self.transport.call("PUT", "order", path_args={"nro": nro_pedvenda}, body=body)
        return po.parse_order(answer, self.names)

    def cancel_order(self, nro_pedvenda: int, reason: str | None = None) -> Order:
        """Cancel an order not yet invoiced; cancelling twice is fine (the ERP answers 200)."""
        _, answer = self.transport.call("POST", "order_cancel", path_args={"nro": nro_pedvenda},
                                        body=cancel_payload(reason, self.names))  # fmt: skip
        return po.parse_order(answer, self.names)

    def record_card_payment(self, card: CardPaymentInput) -> None:
        """POST the card data of one payment form of an order the ERP holds (paths.card_payment,
        [assumed]). Safe to repeat: the ERP keeps one record per (order, idPagtoCanalVenda), a
        repeat replacing the fields it sends. Raises as the other writes do: ErpRejected with the
        ERP's codigo / mensagem / campo for a refusal (unknown order or payment form, a cancelled
        order, a malformed codBin; `maybe_taken` when an earlier attempt may have been recorded),
        ErpAuthError for a refused login, ErpTransient for 5xx / timeouts / the ERP unreachable
        (after the transport's retries), ErpUnexpectedShape for a 2xx body that is not JSON. The
        answer's body is not read: it is not public, and nothing the app does depends on it."""
        self.transport.call("POST", "card_payment", body=card_payment_payload(card, self.names))
        logger.info("consinco: card payment %s of order %s recorded", card.channel_payment_id,
                    card.channel_order_id)  # fmt: skip

    # ------------------------------------------------------------------ setup page

    def test_connection(self) -> ConnectionCheck:
        """Log in and read the companies: a message the setup page can show as it is."""
        try:
            companies = list(self.changed_since("companies", None, page_size=MAX_PAGE_SIZE))
        except ErpAuthError as exc:
            return ConnectionCheck(
                False,
                f"Login refused: check the user and password ({exc.mensagem}).",
                code="login_refused",
                detail=exc.mensagem,
            )
        except ErpAddressRefused as exc:
            return ConnectionCheck(
                False,
                f"The ERP address is not allowed: {exc.mensagem}",
                code="address_refused",
                detail=exc.mensagem,
            )
        except ErpTransient as exc:
            return ConnectionCheck(
                False,
                f"Could not reach the ERP at {self.base_url}: {exc.message}",
                code="unreachable",
                detail=exc.message,
            )
        except ErpRejected as exc:
            return ConnectionCheck(
                False,
                f"The ERP refused the request (HTTP {exc.status}): {exc.mensagem}",
                code="refused",
                detail=f"HTTP {exc.status}: {exc.mensagem}",
            )
        except ErpUnexpectedShape as exc:
            return ConnectionCheck(
                False,
                f"The ERP answered in an unexpected shape: {exc.message}",
                code="unexpected_shape",
                detail=exc.message,
            )
        except requests.RequestException as exc:  # a malformed base URL typed on the setup page
            return ConnectionCheck(
                False,
                f"Invalid ERP address {self.base_url!r}: {type(exc).__name__}",
                code="bad_address",
                detail=type(exc).__name__,
            )
        numbers = tuple(c.nro_empresa for c in companies)
        message = f"Connected as {self.transport.username}: {len(numbers)} companies."
        return ConnectionCheck(True, message, numbers)
