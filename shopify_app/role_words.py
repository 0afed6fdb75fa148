"""What-to-do texts for the role reading them: a viewer (read-only) is not told to press a button
the page hides from their role. A text naming an operator's button (Retry, Replay, Mark as
handled, in either language) reads, for a viewer, as what to ask someone with the Operator role
or above to do: the same steps, said as theirs to ask for.
"""

from __future__ import annotations

import re

# The page's operator buttons as the texts name them (frontend/i18n: detail.retry, detail.replay,
# detail.handled.mark), and the verb forms the texts use for them ("then retry", "tente de novo").
OPERATOR_BUTTONS = re.compile(
    r"\b(retry|replay|mark as handled"
    r"|tentar de novo|tente de novo|reenviar|marcar como resolvida)\b",
    re.IGNORECASE,
)
ASK = (
    "Seu papel (Leitor) só permite consultar: peça a alguém com papel de Operador ou acima que faça isto.",
    "Your role (Viewer) can only look: ask someone with the Operator role or above to do this.",
)


def names_a_button(text: str | None) -> bool:
    """Whether a text tells the reader to press one of the operator's buttons."""
    return bool(text) and OPERATOR_BUTTONS.search(text or "") is not None


def for_viewer(text: str, english: bool) -> str:
    """The text a viewer reads: unchanged when it names no operator button, else prefixed with
    whom to ask (the steps kept after it, for that person)."""
    if not names_a_button(text):
        return text
    ask = ASK[1] if english else ASK[0]
    return f"{ask} {text}"
