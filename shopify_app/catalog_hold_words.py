"""The skus flow's closing words on a held message, in the merchant's words (pt-BR and en).

The skus pass's held message (jobs.catalog_unlisted.MOVED_UNIT: packagings of changed products its
read no longer listed, many at once) is closed by the next full sync, which decides every
packaging again (`moved_hold_settled`); the full sync's own held message (UNIT) by a later full
sync that holds nothing: the ERP listed its packagings again, or a person's Retry retired them
(`unlisted_hold_settled`). Its response keeps the English note (`note`) and beside it its words
(`note_words`: ledger.words.beside), said on the message's page in the request's locale
(`in_locale`). A note with no words (a message stored before them) reads as it was written.
Params: counts of packagings.
"""

from __future__ import annotations

from typing import Any

from shopify_app import words
from shopify_app.words import Text

WORDS: dict[str, Text] = {
    "moved_hold_settled": (
        "Uma sincronização completa leu o catálogo inteiro e decidiu as {count} embalagem(ns) desta "
        "mensagem: {retired} retirada(s), {held} retida(s) de novo para uma pessoa (a mensagem da "
        "sincronização completa as lista), {kept} mantida(s) como estavam (a leitura as listou, ou não "
        "provou que saíram).",
        "A full sync read the catalog whole and decided the {count} packaging(s) this message named: "
        "{retired} retired, {held} held again for a person (the full sync's own message names them), "
        "{kept} left as they were (its read listed them, or did not prove them gone).",
    ),
    "unlisted_hold_settled": (
        "Uma sincronização completa leu o catálogo inteiro e não retém mais nenhuma embalagem para uma "
        "pessoa. Das {count} embalagem(ns) que esta mensagem listava: {retired} retirada(s), {kept} "
        "mantida(s) como estavam (a leitura as listou de novo, ou não provou que saíram). Ao todo, ela "
        "retirou {unlisted} embalagem(ns).",
        "A full sync read the catalog whole and holds no packaging for a person any more. Of the {count} "
        "packaging(s) this message named: {retired} retired, {kept} left as they were (its read listed "
        "them again, or did not prove them gone). It retired {unlisted} packaging(s) in all.",
    ),
}


def in_locale(response: Any, locale: str) -> Any:
    """A copy of a skus message's response with its note said in `locale`."""
    return words.texts_in_locale(response, WORDS, locale)
