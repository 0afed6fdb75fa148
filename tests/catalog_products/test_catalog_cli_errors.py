"""`flask --app app catalog diff|sync` on a shop that cannot run: one line saying why, exit 1.

A ClickException leaves the runner through SystemExit (a shell sees `Error: ...`); any other
exception is a traceback in the operator's terminal.
"""

from __future__ import annotations

import pytest
from click.testing import Result
from sqlalchemy import delete, update

import app as app_module
from ledger.db import session_scope
from ledger.models import ErpConnection, Shop

from .conftest import InstalledShop


def _catalog(*args: str) -> Result:
    return app_module.create_app(blueprints=()).test_cli_runner().invoke(args=["catalog", *args])


def _refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result.output


@pytest.mark.parametrize("command", ["diff", "sync"])
def test_a_shop_without_an_erp_connection_is_one_line(installed: InstalledShop, command) -> None:
    with session_scope() as session:
        session.execute(delete(ErpConnection))
    output = _refused(_catalog(command))
    assert output.startswith("Error: ") and "has no ERP connection" in output


@pytest.mark.parametrize("command", ["diff", "sync"])
def test_the_erp_down_is_one_line(installed: InstalledShop, command) -> None:
    installed.erp.stop()
    output = _refused(_catalog(command))
    assert "Consinco unreachable" in output


@pytest.mark.parametrize(
    ("status", "why"), [("uninstalled", "is uninstalled"), ("needs_reauth", "needs re-authorization")]
)
@pytest.mark.parametrize("command", ["diff", "sync"])
def test_a_shop_not_active_is_refused_saying_why(installed: InstalledShop, command, status, why) -> None:
    with session_scope() as session:
        session.execute(update(Shop).values(status=status))
    output = _refused(_catalog(command, "--shop", installed.domain))
    assert f"shop {installed.domain} {why}" in output
    assert "no active shop" in _refused(_catalog(command))  # none active, none named: as before
