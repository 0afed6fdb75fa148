"""The NF-e key an invoice event is applied with (flow `invoices`): checked, and read again from the
ERP when the event's own is refused.

The key must be valid (jobs.nfe.validate_key: layout, model 55/65, modulo 11, a year-month not
later than the current one at the ERP: NFE_KEY_INVALID), of a document issued by now (its
dtaHorEmissao at most CLOCK_TOLERANCE ahead of this clock: NFE_KEY_INVALID too) and not before the
order existed (the ERP order's creation less BEFORE_ORDER_TOLERANCE: NFE_KEY_INVALID), be this
document's (jobs.nfe.document_mismatch: its model, series, number, issuer CNPJ and year-month agree
with the document the event describes: NFE_KEY_MISMATCH), be of the order's company (the key's
issuer has the CNPJ root of the order's ERP company, whoever the document names: NFE_KEY_MISMATCH,
part "company") and carry its issuer's state (the cUF of the ERP company whose CNPJ the key
carries: NFE_KEY_MISMATCH, part "uf"). Nothing is written on the order before it is.

The issuer CNPJ the key's is compared with: the event's cnpjEmitente; when the event omits it, the
ERP order's copy of the document's; when that omits it too, the CNPJ of the ERP company the order
is of (jobs.company_cnpj), by its 8-character root alone (another branch of the company, a
distribution centre, may issue the store's NF-e). Only when none is known is the issuer left
unchecked: a key carrying another company's CNPJ names another company's NF-e, whoever omitted the
field. Whoever names the issuer, the key's must then have the order's company's root too: a
document that agrees with its own key but is another company's is not this order's.

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from erp.records import Invoice
from jobs import company_cnpj
from jobs.nfe import UF_CODE, InvalidNfeKey, NfeKey, document_mismatch, normalise, validate_key, year_month_at
from ledger.errors import Rejected

log = logging.getLogger(__name__)

# The parts of a key held to the document it is given for (its company and cUF have their own
# refusals: _another_company, _another_state).
PARTS = {"model": "model", "series": "series", "number": "number", "issuer": "issuer CNPJ",
         "month": "AAMM year-month"}  # fmt: skip
# Each part in the merchant's words (shopify_app.note_words: "nfe_part_<part>").
PART_WORDS = {part: f"nfe_part_{part}" for part in PARTS}
# How far ahead of this clock a document's issue may be (the ERP's clock and ours differ a little).
CLOCK_TOLERANCE = timedelta(minutes=10)
# A key's AAMM is its issuer's local month, and the issuer may be in any of Brazil's zones: the
# latest month a key can carry now is the month on Brazil's latest clock (Fernando de Noronha, UTC-2),
# not the ERP's zone's (at 00:05 on the 1st in Brasilia, Campo Grande, UTC-4, is still in the last
# month, and a store of the chain in DF issues keys of the new one).
LATEST_CLOCK = timezone(timedelta(hours=-2))
# How much earlier than the ERP order's creation a document's issue may read. An NF-e is issued for
# an order that exists, but the ERP's dates may be of day precision (a date alone reads as midnight:
# up to a day early) and a date-time without offset read in another zone than it was written in is
# off by hours: two days (and the clocks' tolerance) cannot refuse a genuine invoice of the order's
# day, and still refuse another order's document of an earlier week, month or year.
BEFORE_ORDER_TOLERANCE = timedelta(days=2)


@dataclass(frozen=True)
class _Check:
    erp_documents: Sequence[Invoice]
    company: tuple[int, int] | None  # (shop id, NROEMPRESA): its CNPJ and state, read once per client
    now: datetime
    order_created: datetime | None  # the ERP order's creation (None: unknown, not checked)


def checked(
    invoice: Invoice,
    erp_documents: Sequence[Invoice],
    *,
    company: tuple[int, int] | None = None,
    now: datetime | None = None,
    order_created: datetime | None = None,
) -> tuple[Invoice, NfeKey]:
    """The document to apply, its key as validated (the 44 characters), and that key's fields.
    `company`: (shop id, NROEMPRESA) of the order, whose CNPJ root the key's issuer must have, and
    whose CNPJ is the issuer's when no copy of the document names one (None: unknown, neither is
    checked, nor the key's cUF); `now`: this clock (tests); `order_created`: the ERP order's
    creation, which the document's issue may not precede (None: unknown, not checked).

    Raises:
        Rejected: NFE_KEY_INVALID / NFE_KEY_MISMATCH, for the ERP order's copy of the document when
            it has one with another key (what the ERP says now), else for the event's.
    """
    check = _Check(erp_documents, company, now or datetime.now(UTC), order_created)
    try:
        return _checked(invoice, check)
    except Rejected:
        current = same_document(invoice, erp_documents)
        if current is None or normalise(current.key) == normalise(invoice.key):
            raise
    log.info("invoices: the event's NF-e key %s was refused; the ERP order now gives %s for NF-e %s",
             invoice.key, current.key, current.number)  # fmt: skip
    return _checked(current, check)


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


def _checked(invoice: Invoice, check: _Check) -> tuple[Invoice, NfeKey]:
    latest = year_month_at(check.now + CLOCK_TOLERANCE, LATEST_CLOCK)
    try:
        key = validate_key(invoice.key, latest_month=latest)
    except InvalidNfeKey as exc:
        raise Rejected(
            f"NF-e key refused: {exc.value!r} breaks the rule: {exc.rule}",
            system="app",
            code="NFE_KEY_INVALID",
            field="documentoFiscal.chaveAcesso",
            detail={"value": exc.value, "rule": exc.rule},
            words=("nfe_key_refused", {"value": repr(exc.value), "rule": exc.words}) if exc.words else None,
        ) from exc
    _refuse_issue_ahead(invoice, check.now)
    _refuse_issue_before_order(invoice, check.order_created)
    issuer, whose = _issuer(invoice, check)
    if whose == COMPANYS and issuer and issuer[:ROOT] == key.issuer[:ROOT]:
        # Held only to the order's company: another branch of it (the CNPJ's 8-character root,
        # shared by every establishment of one company: a distribution centre invoicing the
        # store's orders) may issue the NF-e; another company's root may not.
        issuer = key.issuer
    _refuse_another_documents_key(invoice, key, issuer, whose)
    if check.company is not None:
        _refuse_another_company(invoice, key, check.company)
        _refuse_another_state(invoice, key, check.company)
    # The key as validated (a DANFE prints it in groups of four): the metafield, the comparison
    # that makes a replay free, and the link's 44-character column all take the 44 digits.
    return replace(invoice, key=key.key), key


def _refuse_issue_ahead(invoice: Invoice, now: datetime) -> None:
    """Refuse (NFE_KEY_INVALID, nothing written) a document issued later than now (beyond
    CLOCK_TOLERANCE): no NF-e is issued ahead of time, so its date, or the document, is wrong."""
    issued = _aware(invoice.issued_at)
    if issued <= now + CLOCK_TOLERANCE:
        return
    local_now = _when(now.astimezone(issued.tzinfo))
    rule = f"issued {_when(issued)}, later than now ({local_now})"
    raise _date_refused(invoice, rule, "nfe_issued_ahead", issued=_when(issued), now=local_now)


DOCUMENTS = "the document's"
COPYS = "the ERP order's copy of the document's"
COMPANYS = "the order's ERP company's (the ERP names no issuer for the document)"
# Whose value the key's is compared with, in the merchant's words (shopify_app.note_words).
WHOSE_WORDS = {
    DOCUMENTS: "nfe_theirs_document",
    COPYS: "nfe_theirs_copy",
    COMPANYS: "nfe_theirs_company",
}
ROOT = 8  # a CNPJ's root: the company, whatever the establishment (branch) issuing


def _refuse_issue_before_order(invoice: Invoice, created: datetime | None) -> None:
    """Refuse (NFE_KEY_INVALID, nothing written) a document issued before the order existed (its
    dtaHorEmissao earlier than the ERP order's creation less BEFORE_ORDER_TOLERANCE and
    CLOCK_TOLERANCE): it is another order's document, or its date is wrong."""
    if created is None:
        return
    issued, created = _aware(invoice.issued_at), _aware(created)
    if issued >= created - BEFORE_ORDER_TOLERANCE - CLOCK_TOLERANCE:
        return
    local_created = _when(created.astimezone(issued.tzinfo))
    rule = f"issued {_when(issued)}, before the order existed (ERP order created {local_created})"
    raise _date_refused(invoice, rule, "nfe_issued_before_order", issued=_when(issued), created=local_created)


def _aware(moment: datetime) -> datetime:
    """A date-time without offset is UTC's."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date_refused(invoice: Invoice, rule: str, words: str, **params: str) -> Rejected:
    """The refusal of a document whose issue date breaks `rule` (NFE_KEY_INVALID on dtaHorEmissao),
    in the merchant's words `words` with the document's number and key beside `params`."""
    return Rejected(
        f"NF-e {invoice.number} (key {invoice.key}) refused: the ERP says it was {rule}",
        system="app",
        code="NFE_KEY_INVALID",
        field="documentoFiscal.dtaHorEmissao",
        detail={"value": invoice.key, "rule": rule},
        words=(words, {"number": invoice.number, "key": invoice.key, **params}),
    )


def _when(moment: datetime) -> str:
    """A document's date and time as the merchant reads it: "2026-11-30 13:00 UTC" (its zone's
    name, if it has one)."""
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _issuer(invoice: Invoice, check: _Check) -> tuple[str | None, str]:
    """The issuer CNPJ the key's is compared with, and whose it is (module docstring)."""
    if invoice.issuer_cnpj:
        return invoice.issuer_cnpj, DOCUMENTS
    copy = same_document(invoice, check.erp_documents)
    if copy is not None and copy.issuer_cnpj:
        return copy.issuer_cnpj, COPYS
    found = company_cnpj.of(*check.company) if check.company is not None else None
    return found, COMPANYS


def _refuse_another_documents_key(invoice: Invoice, key: NfeKey, issuer: str | None, whose: str) -> None:
    """Refuse (NFE_KEY_MISMATCH, nothing written) a key whose own fields name another document than
    the one the event describes (jobs.nfe.document_mismatch): its model, series, number, issuer
    CNPJ (`issuer`, `whose` it is: `_issuer`) or year-month. Writing it would show the merchant and
    the customer the key of a document that is not this order's."""
    found = document_mismatch(key, model=invoice.model, series=invoice.series, number=invoice.number,
                              issued_at=invoice.issued_at, issuer=issuer)  # fmt: skip
    if found is None:
        return
    part, in_key, in_document = found
    _mismatch(invoice, key, part, in_key, whose if part == "issuer" else DOCUMENTS, in_document)


def _refuse_another_company(invoice: Invoice, key: NfeKey, company: tuple[int, int]) -> None:
    """Refuse (NFE_KEY_MISMATCH, part "company", nothing written) a key whose issuer is not of the
    order's ERP company (another CNPJ root), whoever the document names as its issuer: a document
    self-consistent but of another company is not this order's. Another branch of the company
    (the same root) passes; a company the ERP lists with no CNPJ is not checked."""
    ours = company_cnpj.of(*company)
    if not ours or ours[:ROOT] == key.issuer[:ROOT]:
        return
    root, company = key.issuer[:ROOT], f"{ours[:ROOT]} (CNPJ {ours})"
    _refuse_key(
        invoice, key, ("company", root, company), "nfe_key_another_company",
        f"NF-e key {key.key} ({_described(invoice)}) is another company's NF-e, not an NF-e of the order's "
        f"ERP company: the key's issuer CNPJ root {root} is not the order's ERP company's {company}. "
        "Give the ERP order its own company's document (or correct the key, if it was typed wrong), "
        f"then Retry ({REREAD}); nothing was written on the order",
    )  # fmt: skip


def _refuse_another_state(invoice: Invoice, key: NfeKey, company: tuple[int, int]) -> None:
    """Refuse (NFE_KEY_MISMATCH, part "uf", nothing written) a key whose cUF is not the state of
    the ERP company whose CNPJ the key carries exactly: an NF-e is authorised by its issuer's state
    (SEFAZ rejects another cUF), so such a key names no authorised NF-e. A CNPJ no listed company
    has, or a company without a known UF, leaves the cUF unchecked."""
    uf = company_cnpj.state_of(*company, key.issuer)
    code = UF_CODE.get(uf or "")
    if code is None or code == key.uf:
        return
    in_key, state = f"{key.uf:02d}", f"{code:02d} ({uf})"
    _refuse_key(
        invoice, key, ("uf", in_key, state), "nfe_key_another_state",
        f"NF-e key {key.key} ({_described(invoice)}) names no authorised NF-e: its cUF {in_key} is not "
        f"the state of the issuing company (the ERP company with the key's CNPJ is in {state}), and an "
        "NF-e is authorised by its issuer's state. Correct the key in the ERP (or the company's state "
        f"in the ERP, if that is what is wrong), then Retry ({REREAD}); nothing was written on the order",
    )  # fmt: skip


REREAD = "the ERP order's document is read again"


def _described(invoice: Invoice) -> str:
    """The document the ERP describes, as the refusals name it."""
    return (
        f"number {invoice.number}, series {invoice.series}, model {invoice.model}, "
        f"issued {_when(invoice.issued_at)}"
    )


def _refuse_key(
    invoice: Invoice,
    key: NfeKey,
    held: tuple[str, str, str],
    words: str,
    text: str,
    more: dict[str, Any] | None = None,
) -> None:
    """Raise NFE_KEY_MISMATCH on the key's part `held` (part, its value in the key, what it is held
    to), said by `text` and the note words `words` (shopify_app.note_words) given `more` besides."""
    part, in_key, in_document = held
    said = {"key": key.key, "number": invoice.number, "series": invoice.series, "model": invoice.model,
            "issued": _when(invoice.issued_at), "in_key": in_key, "in_document": in_document,
            **(more or {})}  # fmt: skip
    raise Rejected(
        text,
        system="app",
        code="NFE_KEY_MISMATCH",
        field="documentoFiscal.chaveAcesso",
        detail={"value": key.key, "part": part, "in_key": in_key, "in_document": in_document},
        words=(words, said),
    )


def _mismatch(invoice: Invoice, key: NfeKey, part: str, in_key: str, theirs: str, in_document: str) -> None:
    """Raise NFE_KEY_MISMATCH: the key's `part` (`in_key`) disagrees with `theirs` (`in_document`):
    it is the key of another document than the one the ERP describes."""
    _refuse_key(
        invoice, key, (part, in_key, in_document), "nfe_key_mismatch",
        f"NF-e key {key.key} is not the key of the document the ERP describes ({_described(invoice)}): "
        f"the key's {PARTS[part]} {in_key} disagrees with {theirs} {in_document}. Correct the key (or the "
        f"document) in the ERP, then Retry ({REREAD}); nothing was written on the order",
        {"part": (PART_WORDS[part], {}), "theirs": (WHOSE_WORDS[theirs], {})},
    )  # fmt: skip
