"""The one client for TOTVS Consinco's SmPedidoVendaAPI (design.md: `erp/`).

    import erp
    client = erp.for_shop(shop_id)             # from the ledger's ErpConnection
    read = client.price_items(since=watermark, nro_empresa=1, nro_segmento=2)
    for item in read: ...                      # typed PriceItem records
    new_watermark = read.snapshot              # once read.complete

Modules: names (every Consinco name, overridable via CONSINCO_FIELD_MAP), records (typed
dataclasses), parse_catalogue / parse_orders (dict -> record), payloads (record -> body),
transport (auth, retries, error classes), paging (envelope, overlap, dedupe), client, factory,
address (which ERP addresses production calls).
"""

from erp.client import ErpClient
from erp.errors import ErpAuthError, ErpRejected, ErpTransient, ErpUnexpectedShape
from erp.factory import for_shop
from erp.paging import ChangeRead
from erp.retry import RetryPolicy

__all__ = [
    "ChangeRead",
    "ErpAuthError",
    "ErpClient",
    "ErpRejected",
    "ErpTransient",
    "ErpUnexpectedShape",
    "RetryPolicy",
    "for_shop",
]
