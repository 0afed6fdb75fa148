"""Every field message the API can answer reads in the page's language where a refused form shows
it (on its input, or in its fields line): the page's own fieldText, run on each message
(tests/api/field_messages.py reads them from the API's source). json_body's "a JSON object is
required" read in English on a pt-BR page. The De:Para page says a CSV import's line errors through
fieldText too: those are run as well."""

from __future__ import annotations

import pytest

from tests.api.field_messages import field_messages, import_messages

pytestmark = pytest.mark.browser

SAY = """async (messages) => {
  const { fieldText, failureParts } = await import("/static/app/api.js");
  const error = { status: 400, code: "invalid", message: "some fields are not valid",
    body: { error: { code: "invalid", fields: { body: "a JSON object is required" } } } };
  return { said: messages.map((m) => [m, fieldText(m)]), fields: failureParts(error).fields };
}"""


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_every_field_message_reads_in_the_pages_language(open_page, locale: str) -> None:
    page = open_page("/app/setup", locale=locale)
    answer = page.evaluate(SAY, field_messages() + import_messages())  # and the De:Para import's lines
    unsaid = [m for m, said in answer["said"] if "{" in said or (locale == "pt-BR" and said == m)]
    assert unsaid == []
    if locale == "pt-BR":
        assert answer["fields"] == [
            "Dados do formulário: deve ser um objeto JSON (os dados do formulário chegaram em outro formato)"
        ]
    assert page.errors == []
