"""Customer text outside the NF-e's character set (TString: [!-ÿ], Latin-1 only, on xNome, xLgr,
xCpl, xBairro, xMun): an iPhone's smart apostrophe (U+2019) in "D’Ávila" / "Sant’Ana", an emoji
in the complement. The app strips symbols from address1 only (order_customer._address_line says
they "fall outside the NF-e's characters"); the name, complement, district and city go as typed,
into GE_PESSOA, whose NF-e SEFAZ then refuses (Rejeição 225, schema) after the order was picked."""

from decimal import Decimal

from erp.payloads import customer_payload
from jobs.order_customer import map_customer
from jobs.order_map import observation
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import raw_order


def _body(raw):
    return customer_payload(map_customer(parse_erp_order(raw).order))


def test_clientedto_text_stays_within_the_nfe_character_set():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"],
        "firstName": "Ana", "lastName": "D’Ávila",
        "address1": "Rua Sant’Ana, 100",
        "address2": "Apto 12 🏠, Bela Vista",
    }  # fmt: skip
    body = _body(raw)
    outside = {key: value for key, value in body.items()
               if isinstance(value, str) and any(ord(c) > 0xFF for c in value)}  # fmt: skip
    assert outside == {}, outside


def test_typographic_marks_become_their_plain_ones_and_latin_1_accents_stay():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"],
        "firstName": "Ana", "lastName": "D\u2019A\u0301vila",  # ’ and an Á typed as A + combining accent
        "address1": "Rua Sant’Ana, 100", "address2": "Apto 12 🏠, Bela\u00a0\u00a0Vista",
        "city": "São\tPaulo",
    }  # fmt: skip
    body = _body(raw)
    assert body["nomeRazaoSocial"] == "ANA D'ÁVILA"
    assert (body["logradouro"], body["nroLogradouro"]) == ("Rua Sant'Ana", "100")
    assert (body["complementoLogradouro"], body["bairro"], body["cidade"]) == (
        "Apto 12",
        "Bela Vista",
        "São Paulo",
    )


def test_a_name_left_with_nothing_is_not_sent_and_widths_count_after():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"], "firstName": "🙂", "lastName": "🛒",
        "address2": "🏠" * 40 + "Bloco " + "B" * 60 + ", Centro",
    }  # fmt: skip
    body = _body(raw)
    assert "nomeRazaoSocial" not in body  # the register keeps its name rather than have it wiped
    # 66 characters once the emoji are gone: cut between words (erp.payloads), measured after
    assert body["complementoLogradouro"] == "Bloco"


def test_letters_outside_latin_1_are_transliterated_not_dropped():
    """A Polish, Vietnamese or Turkish name is written with letters Latin-1 has not: each becomes
    its base letter (Ł, which has no decomposition, L), never deleted ("UKASZ WINIEWSKI")."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"], "firstName": "Łukasz", "lastName": "Wiśniewski",
        "address1": "Rua Nguyễn Văn Trỗi, 100", "address2": "Œuvre Ştefan ★, Đông Ørestad",
        "city": "São Paulo",
    }  # fmt: skip
    body = _body(raw)
    assert body["nomeRazaoSocial"] == "LUKASZ WISNIEWSKI"
    assert (body["logradouro"], body["complementoLogradouro"]) == ("Rua Nguyen Van Troi", "OEuvre Stefan")
    assert (body["bairro"], body["cidade"]) == ("Dông Ørestad", "São Paulo")  # ô is Latin-1: kept


def test_the_observation_stays_within_the_nfe_character_set():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {**raw["shippingAddress"], "address1": "Rua Sant’Ana, 100"}
    raw["note"] = "Portão azul 🚪 — tocar\ncampainha"
    obs = observation(parse_erp_order(raw).order)
    assert all(ord(c) <= 0xFF and c.isprintable() for c in obs), obs
    assert "Rua Sant'Ana" in obs and obs.endswith("Portão azul - tocar campainha"), obs
