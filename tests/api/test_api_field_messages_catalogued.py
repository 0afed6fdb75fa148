"""A refused form shows each invalid field's message on its input, or in its fields line, in the
page's language (api.js fieldText: FIELD_WORDS -> `error.field.<key>`): every field message the
API can answer has a pattern there and words in both catalogues. json_body's "a JSON object is
required" had none, and read in English on a pt-BR page."""

from __future__ import annotations

import json
import re

from shopify_app.frontend import I18N_DIR
from tests.api.field_messages import field_messages, field_words, import_messages


def test_the_scan_reads_the_api_and_api_js() -> None:
    messages = field_messages()
    assert {"a JSON object is required", "is required", "unknown field", "must be true or false"} <= set(
        messages
    )
    assert any(m.endswith(" payment method names") for m in messages)  # every setting's noun
    assert any(m.startswith("the ERP payment method (NROFORMAPAGTO)") for m in messages)  # relayed ones
    assert len(field_words()) >= 20


def _unsaid(messages: list[str]) -> list[str]:
    """Each of `messages` FIELD_WORDS has no pattern for, or whose key a catalogue lacks."""
    words = field_words()
    catalogues = {
        lang: json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("pt-BR", "en")
    }
    unsaid: list[str] = []
    for message in messages:
        found = next(((p.match(message), key) for p, key in words if p.match(message)), None)
        if found is None:
            unsaid.append(f"no FIELD_WORDS pattern: {message}")
            continue
        match, key = found
        for lang, catalogue in catalogues.items():
            text = catalogue.get(f"error.field.{key}")
            if text is None:
                unsaid.append(f"{lang}: no error.field.{key}: {message}")
            elif set(re.findall(r"\{(\w+)\}", text)) - set(match.groupdict()):
                unsaid.append(f"{lang}: error.field.{key} names values the pattern does not catch: {message}")
    return unsaid


def test_every_field_message_the_api_answers_has_words_in_both_languages() -> None:
    unsaid = _unsaid(field_messages())
    assert unsaid == [], "\n".join(unsaid)


def test_the_import_scan_reads_every_line_error() -> None:
    messages = import_messages()
    assert "a value is too long (codes at most 100/255)" in messages
    assert "location gid://shopify/Location/3 appears twice" in messages  # relayed: _twice
    assert any(m.startswith("location gid://shopify/Location/3 is mapped to company 6") for m in messages)
    assert any(m.startswith("“gid://shopify/Location/3” is not a Shopify location") for m in messages)


def test_every_line_error_of_a_csv_import_has_words_in_both_languages() -> None:
    """The De:Para page says each import line error through fieldText as well (mappings.js): a
    location mapped to another company, a value too long, a missing column, an unreadable CSV
    read in English on a pt-BR page."""
    unsaid = _unsaid(import_messages())
    assert unsaid == [], "\n".join(unsaid)


def test_every_field_words_key_is_in_both_catalogues() -> None:
    for lang in ("pt-BR", "en"):
        catalogue = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert (
            sorted({k for _, k in field_words()} - {k.removeprefix("error.field.") for k in catalogue}) == []
        ), lang


def _said_in(lang: str, message: str) -> str:
    """`message` as the page says it (api.js fieldText): its FIELD_WORDS key's text, values in place."""
    catalogue = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    match, key = next((p.match(message), key) for p, key in field_words() if p.match(message))
    return re.sub(r"\{(\w+)\}", lambda m: match.group(m.group(1)), catalogue[f"error.field.{key}"])


def test_a_csv_the_csv_module_cannot_read_says_why_in_the_pages_words_not_pythons() -> None:
    """ledger.mappings._unreadable's sentences each have words of their own (csv's English text,
    "field larger than field limit (131072)", was shown inside the pt-BR sentence)."""
    unreadable = [m for m in import_messages() if m.startswith("unreadable CSV")]
    assert len(unreadable) == 5, unreadable
    assert _said_in("pt-BR", "unreadable CSV: a value longer than 131072 characters") == (
        "o CSV não pôde ser lido a partir desta linha: um valor passa de 131072 caracteres; as linhas "
        "anteriores sem erro foram importadas"
    )
    for message in unreadable:
        pt = _said_in("pt-BR", message)
        assert pt.startswith("o CSV não pôde ser lido a partir desta linha"), pt
        assert not re.search(r"\b(the|of|value|quote|line)\b", pt), pt
        assert _said_in("en", message).startswith("the CSV could not be read from this line on")
