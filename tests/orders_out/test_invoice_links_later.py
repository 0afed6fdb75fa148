"""ERP -> Shopify: the DANFE / XML links of an NF-e the order shows already. A later F event of the
same NF-e (the carrier's tracking) that carries links the first one did not writes them; one without
them deletes nothing; the same event twice writes nothing (jobs.invoice_fields). Adapted from a
reviewer's scratch tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from erp.records import Invoice
from jobs import invoice_fields, invoices
from ledger.models import MessageStatus
from shopify_app.admin_api import AdminClient, for_shop

from .conftest import World


def _without_links(original: Any) -> Any:
    def fields(order_id: str, invoice: Any) -> list[dict[str, Any]]:
        return [f for f in original(order_id, invoice) if f["key"] not in ("danfe_url", "xml_url")]

    return fields


def _count_sets(monkeypatch: Any) -> list[list[dict[str, Any]]]:
    calls: list[list[dict[str, Any]]] = []
    original = AdminClient.metafields_set

    def counted(self: AdminClient, metafields: Any) -> Any:
        calls.append(list(metafields))
        return original(self, metafields)

    monkeypatch.setattr(AdminClient, "metafields_set", counted)
    return calls


def test_a_danfe_link_given_on_a_later_event_of_the_same_nfe_is_written(
    world: World, monkeypatch: Any
) -> None:
    """Applied with no link (the ERP gave none yet); the carrier's tracking comes on a later F event
    of the same key, which carries the links: they are added, and the message says so. A replay of
    that event writes nothing."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    original = invoices.invoice_metafields
    monkeypatch.setattr(invoices, "invoice_metafields", _without_links(original))  # the ERP gave no link yet
    [document] = world.erp.invoice(order.nro, tracking=False)["documentosFiscais"]
    world.poll()
    [first] = world.messages("invoices", order)
    assert first.status == MessageStatus.DONE.value, first.error_text
    assert "danfe_url" not in world.settlement(order.gid).nfe
    monkeypatch.setattr(invoices, "invoice_metafields", original)  # the next event carries the links
    world.erp.track(order.nro, "LG1", carrier="Loggi", url="https://rastreio.example/LG1")
    world.poll()
    _, later = world.messages("invoices", order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    key = document["chaveAcesso"]
    assert later.response_payload["metafields"] == f"DANFE and XML links added to NF-e {key}"
    nfe = world.settlement(order.gid).nfe
    assert nfe.get("danfe_url") == document["urlDanfe"], (later.response_payload.get("metafields"), nfe)
    assert nfe.get("xml_url") and nfe["chave"] == key

    sets = _count_sets(monkeypatch)
    assert invoices.replay(later.id) == MessageStatus.DONE.value  # the same event twice
    _, replayed = world.messages("invoices", order)
    assert replayed.response_payload["metafields"] == "already there"
    assert sets == []
    assert world.settlement(order.gid).nfe == nfe


def test_a_later_event_of_the_same_nfe_without_links_does_not_delete_them(
    world: World, monkeypatch: Any
) -> None:
    """Applied with its links; a later F event of the same key without them leaves them in place."""
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    [document] = world.erp.invoice(order.nro, tracking=False)["documentosFiscais"]
    world.poll()
    before = world.settlement(order.gid).nfe
    assert before.get("danfe_url") == document["urlDanfe"]
    monkeypatch.setattr(invoices, "invoice_metafields", _without_links(invoices.invoice_metafields))
    sets = _count_sets(monkeypatch)
    world.erp.track(order.nro, "LG1", carrier="Loggi", url="https://rastreio.example/LG1")
    world.poll()
    _, later = world.messages("invoices", order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    assert later.response_payload["metafields"] == "already there"
    assert sets == []
    nfe = world.settlement(order.gid).nfe
    assert nfe == before, (later.response_payload.get("metafields"), nfe)


def test_an_interrupted_key_change_still_deletes_the_old_nfes_links(world: World) -> None:
    """NF-e 1 (with links) is replaced by NF-e 2 (none yet) and the run stops after the metafieldsSet,
    before deleting NF-e 1's links: the order shows NF-e 2's key, but no message recorded writing it
    (not `written`), so a retry still deletes them. Once written, the same call deletes nothing."""
    order = world.linked_order([(world.plain(0), 1)], gateway="pix")
    _, message = world.invoice(order)
    assert message.status == MessageStatus.DONE.value
    state = world.settlement(order.gid)
    first = state.nfe["chave"]
    reissued_key = "3" + first[1:]  # only compared, never validated here
    client = for_shop(world.domain)
    client.metafields_set(
        [
            {"ownerId": order.gid, "namespace": "nfe", "key": "chave", "type": "single_line_text_field",
             "value": reissued_key},
            {"ownerId": order.gid, "namespace": "nfe", "key": "chaves", "type": "list.single_line_text_field",
             "value": f'["{reissued_key}"]'},
        ]
    )  # fmt: skip
    interrupted = world.settlement(order.gid)
    reissued = _invoice(reissued_key, state.nfe)
    kept = invoices._write_metafields(client, order.gid, reissued, [reissued_key], interrupted)
    assert kept == "already there"  # written by a message: the links would be NF-e 2's own
    outcome = invoices._write_metafields(
        client, order.gid, reissued, [reissued_key], interrupted, written=False
    )
    assert outcome == "written; danfe_url, xml_url of the NF-e shown before deleted"
    after = world.settlement(order.gid).nfe
    assert after["chave"] == reissued_key and "danfe_url" not in after and "xml_url" not in after


def _invoice(key: str, held: dict[str, str]) -> Invoice:
    issued = datetime.fromisoformat(held["data_emissao"])
    return Invoice(seq_nf=None, key=key, number=int(held["numero"]), series=held["serie"],
                   model=held["modelo"], status="V", issued_at=issued, total=Decimal("1"),
                   issuer_cnpj=None, danfe_url=None, xml_url=None)  # fmt: skip


def test_what_the_order_lacks_and_its_words() -> None:
    """Pure: a date_time is the same instant however written; the outcome names what was added or
    updated, the two links together."""
    held = {"chave": "K", "data_emissao": "2026-11-30T10:00:00-03:00", "danfe_url": "https://a/1"}
    fields = [
        {"key": "chave", "type": "single_line_text_field", "value": "K"},
        {"key": "data_emissao", "type": "date_time",
         "value": datetime(2026, 11, 30, 13, tzinfo=UTC).isoformat()},
        {"key": "serie", "type": "single_line_text_field", "value": "1"},
        {"key": "danfe_url", "type": "url", "value": "https://a/2"},
        {"key": "xml_url", "type": "url", "value": "https://a/x"},
    ]  # fmt: skip
    changed = invoice_fields.missing(fields, held)
    assert [f["key"] for f in changed] == ["serie", "danfe_url", "xml_url"]
    assert invoice_fields.outcome(changed, held, "K") == (
        "series and XML link added to NF-e K; DANFE link updated on NF-e K"
    )
    links = [f for f in fields if f["key"] in ("danfe_url", "xml_url")]
    assert invoice_fields.outcome(links, {}, "K") == "DANFE and XML links added to NF-e K"
    assert (
        invoice_fields.outcome([fields[1], *links], {}, "K")
        == "issue date, DANFE and XML links added to NF-e K"
    )
    assert invoice_fields.outcome([], held, "K") == "already there"
