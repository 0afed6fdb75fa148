"""The NF-e key an invoice event is applied with (flow `invoices`): checked, and read again from the
ERP when the event's own is refused.

The key must be valid (jobs.nfe.validate_key: layout, model 55/65, modulo 11: NFE_KEY_INVALID) and
be this document's (jobs.nfe.document_mismatch: its model, series, number, issuer CNPJ and
year-month agree with the document the event describes: NFE_KEY_MISMATCH). Nothing is written on
the order before it is.

Why the ERP order is read again: an event is immutable and its message keeps it (its
request_payload), so a Retry replays the same event, whose documentoFiscal keeps the key that was
refused. The merchant corrects the key (or the document) in the ERP, as the explanation of both
refusals asks, and the ERP order — read for every event anyway (GET PedidoVenda) — then lists the
document with the corrected key. So when the event's key is refused, the same document among the
ERP order's (by seqNf, else number, series and model) is checked instead, and applied when it
passes: the Retry succeeds once the ERP is right, and fails with the ERP's current words until then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from erp.records import Invoice
from jobs.nfe import InvalidNfeKey, NfeKey, document_mismatch, normalise, validate_key
from ledger.errors import Rejected

log = logging.getLogger(__name__)

PARTS = {"model": "model", "series": "series", "number": "number", "issuer": "issuer CNPJ",
         "month": "AAMM year-month"}  # fmt: skip


def checked(invoice: Invoice, erp_documents: Sequence[Invoice]) -> tuple[Invoice, NfeKey]:
    """The document to apply, its key as validated (the 44 characters), and that key's fields.

    Raises:
        Rejected: NFE_KEY_INVALID / NFE_KEY_MISMATCH, for the ERP order's copy of the document when
            it has one with another key (what the ERP says now), else for the event's.
    """
    try:
        return _checked(invoice)
    except Rejected:
        current = same_document(invoice, erp_documents)
        if current is None or normalise(current.key) == normalise(invoice.key):
            raise
    log.info("invoices: the event's NF-e key %s was refused; the ERP order now gives %s for NF-e %s",
             invoice.key, current.key, current.number)  # fmt: skip
    return _checked(current)


def same_document(invoice: Invoice, documents: Sequence[Invoice]) -> Invoice | None:
    """The ERP order's copy of `invoice` (None: it lists none such): the same seqNf when both give
    it, else the same number, series and model."""
    if invoice.seq_nf is not None:
        found = next((d for d in documents if d.seq_nf == invoice.seq_nf), None)
        if found is not None:
            return found
    return next(
        (d for d in documents if (d.number, str(d.series), d.model) == (invoice.number, str(invoice.series),
                                                                        invoice.model)),
        None,
    )  # fmt: skip


def _checked(invoice: Invoice) -> tuple[Invoice, NfeKey]:
    try:
        key = validate_key(invoice.key)
    except InvalidNfeKey as exc:
        raise Rejected(
            f"NF-e key refused: {exc.value!r} breaks the rule: {exc.rule}",
            system="app",
            code="NFE_KEY_INVALID",
            field="documentoFiscal.chaveAcesso",
            detail={"value": exc.value, "rule": exc.rule},
        ) from exc
    _refuse_another_documents_key(invoice, key)
    # The key as validated (a DANFE prints it in groups of four): the metafield, the comparison
    # that makes a replay free, and the link's 44-character column all take the 44 digits.
    return replace(invoice, key=key.key), key


def _refuse_another_documents_key(invoice: Invoice, key: NfeKey) -> None:
    """Refuse (NFE_KEY_MISMATCH, nothing written) a key whose own fields name another document than
    the one the event describes (jobs.nfe.document_mismatch): its model, series, number, issuer
    CNPJ (when the event gives cnpjEmitente) or year-month. Writing it would show the merchant and
    the customer the key of a document that is not this order's."""
    found = document_mismatch(key, model=invoice.model, series=invoice.series, number=invoice.number,
                              issued_at=invoice.issued_at, issuer=invoice.issuer_cnpj)  # fmt: skip
    if found is None:
        return
    part, in_key, in_document = found
    issued = invoice.issued_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    raise Rejected(
        f"NF-e key {key.key} is not the key of the document the ERP describes (number {invoice.number}, "
        f"series {invoice.series}, model {invoice.model}, issued {issued}): the key's {PARTS[part]} "
        f"{in_key} disagrees with the document's {in_document}. Correct the key (or the document) in "
        f"the ERP, then Retry (the ERP order's document is read again); nothing was written on the order",
        system="app",
        code="NFE_KEY_MISMATCH",
        field="documentoFiscal.chaveAcesso",
        detail={"value": key.key, "part": part, "in_key": in_key, "in_document": in_document},
    )
