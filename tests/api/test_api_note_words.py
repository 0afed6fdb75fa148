"""The notes for a person on an order in the merchant's words (shopify_app.note_words): every key
says in pt-BR and in en what its params hold; a key unknown, or no words, reads as the text."""

from __future__ import annotations

import string

import pytest

from shopify_app.note_words import JOINS, WORDS, say_note


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_each_the_same_params() -> None:
    for key, (pt, en) in WORDS.items():
        assert pt.strip() and en.strip(), key
        assert _fields(pt) == _fields(en), key
    assert all(len(j) == 2 for j in JOINS.values())


@pytest.mark.parametrize("key", sorted(WORDS))
def test_each_key_renders_in_both_languages_with_its_params(key: str) -> None:
    params = {name: f"<{name}>" for name in _fields(WORDS[key][1])}
    part = [{"key": key, "params": params}]
    pt, en = say_note(part, "pt-BR"), say_note(part, "en")
    assert pt is not None and en is not None
    for value in params.values():
        assert value in pt and value in en, key
    assert "{" not in pt and "{" not in en, key
    if any(c.isalpha() for c in WORDS[key][1].format(**{k: "" for k in params})):
        assert pt != en or key in {"nfe_key", "nfes"}, key  # fragments the same in both


def test_nested_parts_money_and_joins_are_said_in_the_pages_language() -> None:
    refusal = {"key": "capture_refusal", "params": {"amount": {"money": "1234.5"}, "authorization": "gid://A/1",
                                                    "why": "CARD_DECLINED"}}  # fmt: skip
    part = {
        "key": "capture_refused",
        "params": {
            "nfe": {"key": "the_nfes", "params": {"count": 2}},
            "invoiced": {"money": "120.00"},
            "due": {"money": "20.00"},
            "paid": {"money": "100.00"},
            "refusals": {"join": "semicolon", "parts": [refusal, refusal]},
        },
    }
    pt = say_note([part], "pt-BR")
    assert pt is not None and pt.startswith(
        "as 2 NF-e (total R$ 120,00): o gateway recusou a captura de R$ 1.234,50"
    )
    assert "R$ 20,00 não foi cobrado (R$ 100,00 recebido)" in pt and pt.count("o gateway recusou") == 2
    en = say_note([part], "en")
    assert en is not None and en.startswith(
        "the 2 NF-e total 120.00: the gateway refused the capture of 1234.5 "
    )
    tips = {"key": "beside_goods", "params": {"items": {"join": "and", "parts": [
        {"key": "tips", "params": {"amount": {"money": "5"}}},
        {"key": "gift_cards_sold", "params": {"amount": {"money": "50"}}}]}}}  # fmt: skip
    assert say_note([tips], "pt-BR") == " e R$ 5,00 de gorjeta e R$ 50,00 em vales-presente vendidos"
    assert say_note([tips], "en") == " and 5 of tips and 50 of gift cards sold"


def test_several_parts_are_said_one_after_another_and_an_unknown_key_falls_back() -> None:
    one = {"key": "no_line_change", "params": {}}
    assert say_note([one, one], "pt-BR") == "nenhum item mudou; nenhum item mudou"
    assert say_note([one, {"key": "gone_since", "params": {}}], "pt-BR") is None
    assert say_note([{"key": "edit_refused", "params": {"why": {"key": "gone_since"}}}], "pt-BR") is None
    assert say_note(None, "pt-BR") is None and say_note([], "en") is None
    missing = say_note([{"key": "edit_refused", "params": {}}], "pt-BR")
    assert missing is not None and "{name}" in missing  # a param the row lacks reads as itself
