"""jobs.invoice_keys without an ERP: which issuer CNPJ a key is held to when the event omits
cnpjEmitente, the order's company and its issuer's state it is held to whatever the event names,
and a key or an issue that is still to come or older than the order. (The same through the
sandboxes: test_invoice_key_guards.py, test_invoice_key_company.py.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from erp.client import Companies
from erp.records import Invoice
from jobs import company_cnpj, invoice_keys
from jobs.nfe import check_digit
from ledger.errors import Rejected
from ledger.words import stored
from shopify_app.note_words import say_note

OURS, THEIRS = "20695448000184", "11222333000181"
ISSUED = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 10:00 in Sao Paulo
NOW = ISSUED + timedelta(minutes=5)


def _key(issuer: str = OURS, year_month: str = "2611", uf: str = "35") -> str:
    body = uf + year_month + issuer + "55" + "001" + "000003589" + "1" + "98183992"
    return body + str(check_digit(body))


def _invoice(key: str, *, issuer: str | None = None, seq_nf: int | None = 7, **changes: Any) -> Invoice:
    document = Invoice(seq_nf=seq_nf, key=key, number=3589, series="1", model="55", status="V",
                       issued_at=ISSUED, total=Decimal("50.00"), issuer_cnpj=issuer,
                       danfe_url=None, xml_url=None)  # fmt: skip
    return replace(document, **changes)


@pytest.fixture
def companies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The order's ERP company has CNPJ OURS, in SP (the only company of a known state); the
    (shop, company) pairs whose CNPJ was asked."""
    asked: list[tuple[int, int]] = []

    def of(shop_id: int, nro_empresa: int) -> str | None:
        asked.append((shop_id, nro_empresa))
        return OURS

    monkeypatch.setattr(company_cnpj, "of", of)
    monkeypatch.setattr(company_cnpj, "state_of", lambda shop_id, nro, cnpj: "SP" if cnpj == OURS else None)
    return asked


def _refusal(invoice: Invoice, erp_documents: list[Invoice], **options: Any) -> Rejected:
    with pytest.raises(Rejected) as raised:
        invoice_keys.checked(invoice, erp_documents, now=NOW, **options)
    return raised.value


def test_without_cnpj_emitente_the_erp_orders_copy_names_the_issuer(companies) -> None:
    forged = _key(THEIRS)
    refused = _refusal(_invoice(forged), [_invoice(forged, issuer=OURS)], company=(1, 2))
    assert refused.code == "NFE_KEY_MISMATCH" and refused.detail["part"] == "issuer", refused.detail
    assert (refused.detail["in_key"], refused.detail["in_document"]) == (THEIRS, OURS)
    assert f"issuer CNPJ {THEIRS} disagrees with the ERP order's copy of the document's {OURS}" in str(
        refused
    )
    assert companies == []  # the copy named it: the companies are not read
    # The key corrected in the ERP: the Retry applies the ERP order's copy.
    invoice, key = invoice_keys.checked(_invoice(forged), [_invoice(_key(), issuer=OURS)], now=NOW)
    assert key.issuer == OURS and invoice.key == _key()


def test_without_any_cnpj_emitente_the_orders_erp_company_names_the_issuer(companies) -> None:
    forged = _key(THEIRS)
    refused = _refusal(_invoice(forged), [_invoice(forged)], company=(1, 2))
    assert refused.code == "NFE_KEY_MISMATCH" and refused.detail["part"] == "issuer", refused.detail
    assert THEIRS in str(refused) and OURS in str(refused) and "the order's ERP company's" in str(refused)
    assert companies == [(1, 2)]
    _invoice_ok, key = invoice_keys.checked(_invoice(_key()), [], company=(1, 2), now=NOW)
    assert key.issuer == OURS
    # No issuer known anywhere (no company given): the issuer is not checked.
    assert invoice_keys.checked(_invoice(forged), [], now=NOW)[1].issuer == THEIRS


def test_the_events_own_cnpj_emitente_comes_first(companies) -> None:
    refused = _refusal(_invoice(_key(), issuer=THEIRS), [_invoice(_key(), issuer=OURS)], company=(1, 2))
    assert refused.detail["in_document"] == THEIRS and "the document's" in str(refused)


def test_a_key_of_a_month_still_to_come_is_invalid() -> None:
    future = _key(year_month="2803")
    refused = _refusal(_invoice(future, issued_at=datetime(2028, 3, 10, 13, tzinfo=UTC)), [])
    assert refused.code == "NFE_KEY_INVALID", refused.code
    assert "AAMM 2803 is later than the current month (2611)" in refused.detail["rule"]


def test_a_key_of_the_new_month_on_brazils_latest_clock_is_valid_whatever_the_erps_zone() -> None:
    """The key's AAMM is its issuer's local month: at 00:30 of December 1st in Fernando de Noronha
    (UTC-2) it is still November in Sao Paulo (and in Campo Grande at 00:05 in Brasilia); a store
    there issues keys of December, and only a month past Brazil's latest clock is still to come."""
    turn = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 23:30 of the 30th in Sao Paulo
    december = _key(year_month="2612", uf="26")
    invoice, key = invoice_keys.checked(
        _invoice(december, issued_at=turn), [], now=turn + timedelta(minutes=1)
    )
    assert key.year_month == "2612" and invoice.key == december
    with pytest.raises(Rejected) as refused:
        invoice_keys.checked(_invoice(_key(year_month="2701"), issued_at=turn), [], now=turn)
    assert "AAMM 2701 is later than the current month (2612)" in refused.value.detail["rule"]


def test_a_document_issued_later_than_now_is_invalid_beyond_the_clocks_tolerance() -> None:
    ahead = invoice_keys.CLOCK_TOLERANCE
    invoice_keys.checked(_invoice(_key(), issued_at=NOW + ahead), [], now=NOW)  # clocks differ a little
    later = NOW + ahead + timedelta(minutes=1)
    refused = _refusal(_invoice(_key(), issued_at=later), [])
    assert refused.code == "NFE_KEY_INVALID" and refused.field == "documentoFiscal.dtaHorEmissao"
    assert "later than now" in refused.detail["rule"] and "2026-11-30 13:16 UTC" in refused.detail["rule"]
    pt = _said(refused, "pt-BR")
    assert pt is not None and "em 2026-11-30 13:16 UTC, depois de agora (2026-11-30 13:05 UTC)" in pt, pt


def test_the_companies_are_read_once_per_erp_client(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []

    class Client:
        def companies(self) -> Companies:
            reads.append("read")
            return Companies([SimpleNamespace(nro_empresa=2, cnpj=OURS, uf="sp "),
                              SimpleNamespace(nro_empresa=3, cnpj="1222333000181", uf=None)])  # fmt: skip

    client = Client()
    monkeypatch.setattr(company_cnpj.order_clients, "erp_client", lambda shop_id: client)
    company_cnpj.reset()
    assert company_cnpj.of(1, 2) == OURS and company_cnpj.of(1, 3) == "01222333000181"  # zeros put back
    assert company_cnpj.state_of(1, 2, "20.695.448/0001-84") == "SP"  # the company with that CNPJ
    assert company_cnpj.state_of(1, 2, "01222333000181") is None  # listed with no UF
    assert company_cnpj.state_of(1, 2, THEIRS) is None  # no listed company has it
    assert company_cnpj.of(1, 9) is None  # not listed: read again only after REREAD_AFTER
    assert reads == ["read"]
    monkeypatch.setattr(company_cnpj, "REREAD_AFTER", 0.0)
    assert company_cnpj.of(1, 9) is None and reads == ["read", "read"]
    other = Client()  # the connection saved again: another client, another read
    monkeypatch.setattr(company_cnpj.order_clients, "erp_client", lambda shop_id: other)
    monkeypatch.setattr(company_cnpj, "REREAD_AFTER", 60.0)
    assert company_cnpj.of(1, 2) == OURS and len(reads) == 3
    company_cnpj.reset()


def test_another_branch_of_the_orders_company_may_issue_it(companies) -> None:
    """Held only to the ERP company's CNPJ (no copy names the issuer), a key of another branch of
    the same company (its 8-digit root: a distribution centre invoicing the store's orders) passes;
    another company's root does not."""
    branch = OURS[:8] + "0002" + "00"
    branch = branch[:12] + "".join(str(d) for d in _cnpj_digits(branch[:12]))
    _invoice_ok, key = invoice_keys.checked(_invoice(_key(branch)), [], company=(1, 2), now=NOW)
    assert key.issuer == branch
    # named by the ERP's copy of the document, the CNPJ is held exactly
    refused = _refusal(_invoice(_key(branch)), [_invoice(_key(branch), issuer=OURS)], company=(1, 2))
    assert refused.code == "NFE_KEY_MISMATCH"


def _cnpj_digits(base: str) -> list[int]:
    from stdnum.br import cnpj

    return [int(d) for d in cnpj.calc_check_digits(base)]


# -- the refusal in the merchant's words -------------------------------------------------------


def _said(refused: Rejected, locale: str) -> str | None:
    assert refused.words is not None, "the refusal has no words: the note reads in English only"
    return say_note([stored(refused.words)], locale)


def test_the_orders_company_is_held_to_whatever_issuer_the_event_names(companies) -> None:
    """The event's document names THEIRS, and so does its key (self-consistent): another company's
    root than the order's company (OURS) is refused all the same; another branch of OURS passes."""
    refused = _refusal(_invoice(_key(THEIRS), issuer=THEIRS), [], company=(1, 2))
    assert refused.code == "NFE_KEY_MISMATCH" and refused.detail["part"] == "company", refused.detail
    assert (refused.detail["in_key"], refused.detail["in_document"]) == (
        THEIRS[:8],
        f"{OURS[:8]} (CNPJ {OURS})",
    )
    assert "the order's ERP company's" in str(refused) and "nothing was written" in str(refused)
    branch = OURS[:8] + "0002"
    branch += "".join(str(d) for d in _cnpj_digits(branch))
    _invoice_ok, key = invoice_keys.checked(
        _invoice(_key(branch), issuer=branch), [], company=(1, 2), now=NOW
    )
    assert key.issuer == branch
    # No company given (unknown): the event's issuer is all the key is held to.
    assert invoice_keys.checked(_invoice(_key(THEIRS), issuer=THEIRS), [], now=NOW)[1].issuer == THEIRS


def test_the_keys_cuf_is_the_state_of_the_erp_company_with_its_cnpj(companies) -> None:
    """OURS is in SP (35): its key with RJ's code (33) names no authorised NF-e. A branch the ERP
    does not list (its state unknown) leaves the cUF unchecked."""
    refused = _refusal(_invoice(_key(uf="33"), issuer=OURS), [], company=(1, 2))
    assert refused.code == "NFE_KEY_MISMATCH" and refused.detail["part"] == "uf", refused.detail
    assert (refused.detail["in_key"], refused.detail["in_document"]) == ("33", "35 (SP)")
    assert invoice_keys.checked(_invoice(_key(), issuer=OURS), [], company=(1, 2), now=NOW)[1].uf == 35
    branch = OURS[:8] + "0002"
    branch += "".join(str(d) for d in _cnpj_digits(branch))
    assert invoice_keys.checked(_invoice(_key(branch, uf="33")), [], company=(1, 2), now=NOW)[1].uf == 33
    assert invoice_keys.checked(_invoice(_key(uf="33")), [], now=NOW)[1].uf == 33  # no company: unknown


def test_a_document_issued_before_the_order_existed_is_invalid_beyond_the_tolerance() -> None:
    """The order's creation less BEFORE_ORDER_TOLERANCE (and the clocks'): a date alone of the
    order's day (midnight, in the ERP's zone or read as UTC) passes; a minute beyond the limit does not."""
    created = datetime(2026, 11, 30, 23, 59, tzinfo=ZoneInfo("America/Sao_Paulo"))  # 02:59 UTC next day
    for issued in (
        datetime(2026, 11, 30, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=ZoneInfo("America/Sao_Paulo")),
    ):
        invoice_keys.checked(_invoice(_key(), issued_at=issued), [], now=NOW + timedelta(days=1),
                             order_created=created)  # fmt: skip
    limit = created - invoice_keys.BEFORE_ORDER_TOLERANCE - invoice_keys.CLOCK_TOLERANCE
    invoice_keys.checked(_invoice(_key(), issued_at=limit), [], now=NOW, order_created=created)
    early = limit - timedelta(minutes=1)
    refused = _refusal(_invoice(_key(), issued_at=early), [], order_created=created)
    assert refused.code == "NFE_KEY_INVALID" and refused.field == "documentoFiscal.dtaHorEmissao"
    rule = refused.detail["rule"]
    assert "before the order existed" in rule and "2026-11-28 23:48 -03" in rule, rule  # not raw ISO
    assert _said(refused, "en") == refused.message
    pt = _said(refused, "pt-BR")
    assert pt is not None and "antes de o pedido existir" in pt and "em 2026-11-28 23:48 -03, antes" in pt, pt
    assert "(pedido criado no ERP em 2026-11-30 23:59 -03)" in pt and "T23" not in pt, pt  # not raw ISO
    # Unknown creation: not checked.
    invoice_keys.checked(_invoice(_key(), issued_at=early), [], now=NOW)


MISMATCHES = {  # part -> (the event's document, the ERP order's documents, what the pt-BR names)
    "model": (_invoice(_key(), model="65"), [], "o modelo da chave (55)"),
    "series": (_invoice(_key(), series="2"), [], "a série da chave (1)"),
    "number": (_invoice(_key(), number=3590), [], "o número da chave (3589)"),
    "issuer": (_invoice(_key(THEIRS), issuer=OURS), [], "o CNPJ do emitente da chave (11222333000181)"),
    "issuer_copy": (_invoice(_key(THEIRS)), [_invoice(_key(THEIRS), issuer=OURS)], "cópia do documento"),
    "issuer_company": (_invoice(_key(THEIRS)), [], "empresa do pedido no ERP"),
    "month": (_invoice(_key(), issued_at=ISSUED - timedelta(days=90)), [], "o ano-mês AAMM da chave (2611)"),
    "company": (_invoice(_key(THEIRS), issuer=THEIRS), [], "é de uma NF-e de outra empresa"),
    "uf": (_invoice(_key(uf="33"), issuer=OURS), [], "o cUF da chave (33) não é a UF da empresa emitente"),
}
# What the merchant is told to do: a key of another document, of another company, of another state.
TO_DO = {
    "company": "Dê ao pedido no ERP o documento da própria empresa",
    "uf": "Corrija a chave no ERP (ou a UF da empresa no ERP",
}


@pytest.mark.parametrize("case", sorted(MISMATCHES))
def test_a_key_of_another_document_is_refused_in_both_languages_as_its_text_reads(
    companies: list[tuple[int, int]], case: str
) -> None:
    """NFE_KEY_MISMATCH carries its words (shopify_app.note_words): said in English they are the
    refusal as written, part and whose value alike; in pt-BR they name the same part and values."""
    invoice, erp_documents, named = MISMATCHES[case]
    refused = _refusal(invoice, erp_documents, company=(1, 2))
    assert refused.code == "NFE_KEY_MISMATCH" and refused.detail["part"] == case.split("_")[0]
    assert _said(refused, "en") == refused.message
    pt = _said(refused, "pt-BR")
    assert pt is not None and "{" not in pt and named in pt, pt
    assert refused.detail["in_key"] in pt and refused.detail["in_document"] in pt, pt
    assert "disagrees" not in pt and TO_DO.get(case, "Corrija a chave (ou o documento) no ERP") in pt, pt
    # only a key naming another document than the ERP's is said to be another document's key
    assert ("não é a chave do documento que o ERP descreve" in pt) == (case not in TO_DO), pt
