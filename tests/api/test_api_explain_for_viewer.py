"""A viewer (read-only) is not told to press a button their role does not show: an explanation
whose what-to-do names Retry, Replay or Mark as handled tells a viewer to ask someone with the
Operator role or above, in both languages; an operator reads it as it is."""

from __future__ import annotations

import pytest

from ledger.errors import Rejected
from ledger.models import Role

from .conftest import headers

ASK = {
    "pt-BR": "Seu papel (Leitor) só permite consultar: peça a alguém com papel de Operador ou acima",
    "en": "Your role (Viewer) can only look: ask someone with the Operator role or above",
}
BUTTON = {"pt-BR": "Tentar de novo", "en": "Retry"}


@pytest.mark.parametrize("where", ["pt-BR", "en"])
def test_a_viewer_is_told_whom_to_ask(client, shops, message, where: str) -> None:
    failed = message(shops.a, "orders", "order:9", error=Rejected("CPF invalido", system="consinco"))
    path = f"/api/messages/{failed}?locale={where}"
    viewer = client.get(path, headers=headers(Role.VIEWER)).get_json()["explanation"]["what_to_do"]
    operator = client.get(path, headers=headers(Role.OPERATOR)).get_json()["explanation"]["what_to_do"]
    assert BUTTON[where] in operator and ASK[where] not in operator
    assert viewer.startswith(ASK[where]), viewer
    assert operator in viewer  # what that person does is the same text


def test_a_text_naming_no_button_is_left_as_it_is(client, shops, message) -> None:
    """A what-to-do that names no button (a mapping to create is the viewer's link too) is not framed."""
    from ledger.errors import MappingMissing

    parked = message(shops.a, "orders", "order:10", error=MappingMissing("carrier", "retira-loja"))
    path = f"/api/messages/{parked}?locale=en"
    viewer = client.get(path, headers=headers(Role.VIEWER)).get_json()["explanation"]["what_to_do"]
    operator = client.get(path, headers=headers(Role.OPERATOR)).get_json()["explanation"]["what_to_do"]
    assert viewer == operator
