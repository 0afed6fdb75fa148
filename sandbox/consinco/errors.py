"""The ERP's refusals, carried with the HTTP status and the body the API answers with."""

from __future__ import annotations

from typing import Any


class ErpError(Exception):
    """A refusal in the ERP's words: `{"codigo", "mensagem", "campo"}` with an HTTP status."""

    def __init__(self, status: int, codigo: str, mensagem: str, campo: str | None = None) -> None:
        super().__init__(mensagem)
        self.status = status
        self.codigo = codigo
        self.mensagem = mensagem
        self.campo = campo

    def body(self) -> dict[str, Any]:
        return {"codigo": self.codigo, "mensagem": self.mensagem, "campo": self.campo}


def invalid(campo: str | None, mensagem: str) -> ErpError:
    """400: the request itself is malformed."""
    return ErpError(400, "REQUISICAO_INVALIDA", mensagem, campo)


def rejected(codigo: str, mensagem: str, campo: str | None = None) -> ErpError:
    """422: a business rule of the ERP refuses the order."""
    return ErpError(422, codigo, mensagem, campo)
