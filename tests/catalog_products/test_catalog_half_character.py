"""One product title carrying a lone UTF-16 surrogate escape ("\\ud83d": an emoji cut in half by the
ERP's API, which JSON allows and Python's json.loads reads into a str no UTF-8 encoder takes) failed
every catalog pass with a bare TypeError, nothing reaching Shopify: the client reads it as U+FFFD
(the replacement character), and the pass sends every product."""

from __future__ import annotations

from jobs import catalog_flow
from tests.catalog_products.erp_writes import set_title
from tests.catalog_products.test_catalog_flows import products_by_seq

MARK = b"QQQQQQ"  # six bytes, replaced on the wire by the six bytes \ud83d


def _rewriting(app):
    def middleware(environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(app(environ, capture)).replace(MARK, b"\\ud83d")
        start_response(captured["status"], captured["headers"])
        return [body]

    return middleware


def test_one_half_emoji_in_a_description_does_not_block_every_other_product(installed) -> None:
    first = catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())
    assert first.created == 38
    set_title(installed.erp, 5, "ARROZ TIPO 1 " + MARK.decode())
    set_title(installed.erp, 7, "FEIJAO CARIOCA NOVO")
    installed.erp.server.app = _rewriting(installed.erp.server.app)

    catalog_flow.run_flow(installed.shop_id, "products", client=installed.client())

    shopify = products_by_seq(installed)
    assert shopify[7]["title"] == "FEIJAO CARIOCA NOVO"
    assert shopify[5]["title"] == "ARROZ TIPO 1 \ufffd"
