"""CONSINCO_FIELD_MAP: an installation renames paths and fields without touching code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from erp_samples import LOGIN, SKU, envelope, sample
from erp_test_urls import BASE

from erp.client import ErpClient
from erp.names import NAMES, load_names
from erp.parse_catalogue import parse_sku


def test_defaults_are_the_contract() -> None:
    assert NAMES.paths["skus"] == "api/v1/Cadastros/ProdutoSku"
    assert NAMES.params["since"] == "DtaHorAlteracao" and NAMES.fields["sku"]["ean"] == "codAcesso"


def test_override_file_renames_fields_and_paths(tmp_path, requests_mock) -> None:
    path = tmp_path / "names.json"
    path.write_text(
        json.dumps(
            {
                "paths": {"skus": "api/v2/Sku"},
                "fields": {"sku": {"ean": "ean13"}},
                "envelope": {"items": "data"},
            }
        )
    )
    names = load_names(path)
    raw = sample(SKU, codAcesso=..., ean13="7890000000017")
    assert parse_sku(raw, names).ean == "7890000000017"
    assert NAMES.fields["sku"]["ean"] == "codAcesso"  # the defaults are untouched
    requests_mock.post(BASE + "/api/v1/Auth/Login", json=LOGIN)
    body = envelope([])
    body["data"] = [raw]
    requests_mock.get(BASE + "/api/v2/Sku", json=body)
    skus = list(ErpClient(BASE, "u", "p", names=names).skus())
    assert [s.ean for s in skus] == ["7890000000017"]


@pytest.mark.parametrize(
    "override",
    [{"pathz": {}}, {"fields": {"sku": {"eann": "x"}}}, {"paths": {"skus": ""}}, {"fields": {"sku": "x"}}],
)
def test_unknown_or_bad_names_are_refused(tmp_path, override) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps(override))
    with pytest.raises(ValueError, match="CONSINCO_FIELD_MAP"):
        load_names(path)


def test_env_var_is_read_at_import(tmp_path) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"paths": {"order_events": "api/v1/Eventos"}}))
    code = "from erp.names import NAMES; print(NAMES.paths['order_events'])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"CONSINCO_FIELD_MAP": str(path), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert out.stdout.strip() == "api/v1/Eventos"
