"""The role pickers are as wide as their longest option in both languages: "Proprietário" in a
roles row read "Proprietári" when the select shrank to the table cell."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# For each role select: the widest option's text (in the select's own font) plus the select's
# padding and its arrow, against the width the select has. Any option wider than that is cut.
CUT_OPTIONS = """(box) => Array.from(box.querySelectorAll("s-select")).flatMap((host) => {
  const select = host.shadowRoot.querySelector("select");
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const chrome = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) + 20;  // the arrow
  return Array.from(select.options)
    .filter((o) => context.measureText(o.text).width + chrome > select.clientWidth)
    .map((o) => `${o.text}: ${select.clientWidth}px`);
})"""


@pytest.mark.parametrize(("locale", "owner"), [("pt-BR", "Proprietário"), ("en", "Owner")])
def test_role_selects_fit_their_longest_option(open_page, locale: str, owner: str) -> None:
    page = open_page("/app/audit", locale=locale)
    roles = page.get_by_test_id("roles")
    expect(roles.get_by_test_id("add-role")).to_be_visible()
    expect(roles.locator("s-table-row s-select")).to_have_count(1)  # the owner's own row
    chosen = "(el) => el.shadowRoot.querySelector('select').selectedOptions[0].text"
    assert roles.locator("s-table-row s-select").evaluate(chosen) == owner
    assert roles.evaluate(CUT_OPTIONS) == []
    assert page.errors == []
