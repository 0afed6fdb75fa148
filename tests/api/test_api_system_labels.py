"""The Messages detail says which system refused ("the ERP said: ..."), by a label in both
languages for every `system=` the code raises with: a missing one showed the raw code ("app
disse:")."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = re.compile(r"""system=["']([a-z_]+)["']""")


def raised_systems() -> set[str]:
    found: set[str] = set()
    for folder in ("jobs", "ledger", "shopify_app", "erp"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(SYSTEM.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_system_the_app_names_in_a_refusal_has_a_label_in_both_languages():
    systems = raised_systems()
    assert {"shopify", "consinco", "app"} <= systems  # the scan reads the code
    for language in ("en", "pt-BR"):
        labels = json.loads((ROOT / "frontend" / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
        missing = sorted(s for s in systems if f"system.{s}" not in labels)
        assert not missing, f"{language}: systems shown as raw codes: {missing}"
