"""Every field message the JSON API can answer (`invalid(...)`'s `fields`: field -> message), read
from the source, each placeholder filled with sample values, for the tests that check the page
says each one in its own words (frontend api.js `fieldText`: FIELD_WORDS -> `error.field.<key>`).

Where a message is written: a dict given to `invalid`, `fields=` or assigned to an `errors` dict
(`errors[key] = ...`), in the page modules (shopify_app/*.py). A message relayed from elsewhere
(`exc.mensagem`, `str(exc)`, a `problem` a checker returned) is read where it is written: RELAYED
names each such expression's source; a relay not listed there fails the scan.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"errors", "item_errors"}  # the page modules' dicts of field -> message
API_JS = ROOT / "frontend" / "static" / "app" / "api.js"


def _sources(path: str, test: Callable[[ast.AST], bool]) -> list[tuple[str, ast.expr]]:
    """The message expressions in `path` (module path under ROOT) that `test` picks out."""
    module = path.removesuffix(".py").replace("/", ".")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return [(module, expr) for node in ast.walk(tree) if (expr := _picked(node, test)) is not None]


def _picked(node: ast.AST, test: Callable[[ast.AST], bool]) -> ast.expr | None:
    return node.args[0] if test(node) and isinstance(node, ast.Call) and node.args else None  # type: ignore[return-value]


def _raised(name: str) -> Callable[[ast.AST], bool]:
    return lambda node: isinstance(node, ast.Call) and getattr(node.func, "id", None) == name


def _returns(path: str, function: str) -> list[tuple[str, ast.expr]]:
    """What `function` in `path` returns (each branch of a conditional), None left out."""
    module = path.removesuffix(".py").replace("/", ".")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    found += [(module, e) for e in _branches(ret.value)]
    return [(m, e) for m, e in found if not (isinstance(e, ast.Constant) and e.value is None)]


def _branches(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.IfExp):
        return _branches(expr.body) + _branches(expr.orelse)
    return [expr]


# A relayed message's sources: (module, message expression) pairs where it is written.
RELAYED: dict[str, Callable[[], list[tuple[str, ast.expr]]]] = {
    # api_settings: errors[key] = problem, from _problem(key, value)
    "problem": lambda: _returns("shopify_app/api_settings.py", "_problem"),
    # api_alerts: invalid({"emails": problems["alert_emails"]}), the setting's own check
    "problems['alert_emails']": lambda: _returns("shopify_app/api_settings.py", "_problem"),
    # api_setup: an ERP address production does not call (erp/address.py)
    "exc.mensagem": lambda: _sources("erp/address.py", _raised("ErpAddressRefused")),
    # api_mappings: invalid({"erp_code": str(exc)}) for ledger.mappings' ValueError
    # (set_location_mapping raises ValueError(problem): location_problem's)
    "str(exc)": lambda: (
        [
            (m, e)
            for m, e in _sources("ledger/mappings.py", _raised("ValueError"))
            if ast.unparse(e) != "problem"
        ]
        + _sources("ledger/mappings.py", _raised("ShopifyCodeError"))
        + _returns("ledger/mappings.py", "location_problem")
    ),
    # api_mappings: invalid({"erp_code": unlisted}), a line the ERP does not list (as an import says it)
    "unlisted": lambda: _returns("ledger/mappings.py", "unlisted_problem"),
    # api_location_mappings: ApiError(422, "unknown_location", ..., fields=problems)
    "problems": lambda: _returns("ledger/mappings.py", "location_problem"),
}


def _written(tree: ast.AST) -> Iterator[ast.expr]:
    """Every expression a page module writes as a field's message."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            given = [node.args[0]] if name == "invalid" and node.args else []
            given += [k.value for k in node.keywords if k.arg == "fields"]
            for fields in given:
                yield from _values(fields)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and getattr(target.value, "id", None) in ERRORS:
                    yield from _branches(node.value)
                elif isinstance(target, ast.Name) and target.id in ERRORS:
                    yield from _values(node.value)


def _values(fields: ast.expr) -> list[ast.expr]:
    """The messages of a fields dict: a literal's values, a comprehension's value; a name is the
    dict itself (filled by `errors[...] = ...`), except a relayed one."""
    if isinstance(fields, ast.Dict):
        return [v for v in fields.values if v is not None]
    if isinstance(fields, ast.DictComp):
        return [fields.value]
    if isinstance(fields, ast.Name) and fields.id in RELAYED:
        return [fields]
    return []


def written_messages() -> list[tuple[str, ast.expr]]:
    """(module, expression) of every field message, relays followed to where they are written."""
    found: list[tuple[str, ast.expr]] = []
    for path in sorted((ROOT / "shopify_app").glob("*.py")):
        module = f"shopify_app.{path.stem}"
        for expr in _written(ast.parse(path.read_text(encoding="utf-8"))):
            relay = ast.unparse(expr)
            if isinstance(expr, ast.Constant | ast.JoinedStr):
                found.append((module, expr))
            elif relay in RELAYED:
                found += RELAYED[relay]()
            elif relay not in ("text",):  # location_mappings: {prefix.key: text} of item_errors, read there
                raise AssertionError(
                    f"{module}: a field message relayed from {relay!r}: name its source in RELAYED"
                )
    return found


# The CSV import's line errors (ledger.mappings.import_csv: `result.errors.append((line, message))`),
# which the De:Para page also says through fieldText; a relayed one's sources, as RELAYED.
IMPORT_RELAYED: dict[str, Callable[[], list[tuple[str, ast.expr]]]] = {
    "problem": lambda: _returns("ledger/mappings.py", "location_problem"),
    "twice": lambda: _returns("ledger/mappings.py", "_twice"),
    "unlisted": lambda: _returns("ledger/mappings.py", "unlisted_problem"),
    "_unreadable(exc)": lambda: _returns("ledger/mappings.py", "_unreadable"),
    # upsert_mapping's ValueError (MappingConflict included), location_problem's via `problem`
    "str(exc)": lambda: (
        [
            (m, e)
            for m, e in _sources("ledger/mappings.py", _raised("ValueError"))
            + _sources("ledger/mappings.py", _raised("MappingConflict"))
            + _sources("ledger/mappings.py", _raised("ShopifyCodeError"))
            if ast.unparse(e) != "problem"
        ]
        + _returns("ledger/mappings.py", "location_problem")
    ),
}


def _appended_line_error(node: ast.AST) -> ast.expr | None:
    """The message of `result.errors.append((line, message))`, else None."""
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
    ):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Attribute) and owner.attr == "errors" and node.args):
        return None
    pair = node.args[0]
    return pair.elts[1] if isinstance(pair, ast.Tuple) and len(pair.elts) == 2 else None


def import_messages() -> list[str]:
    """Every line error a De:Para CSV import can answer, with sample values, sorted, no repeats."""
    module = "ledger.mappings"
    tree = ast.parse((ROOT / "ledger" / "mappings.py").read_text(encoding="utf-8"))
    found: list[tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        expr = _appended_line_error(node)
        if expr is None:
            continue
        relay = ast.unparse(expr)
        if isinstance(expr, ast.Constant | ast.JoinedStr):
            found.append((module, expr))
        elif relay in IMPORT_RELAYED:
            found += IMPORT_RELAYED[relay]()
        else:
            raise AssertionError(
                f"{module}: an import line error relayed from {relay!r}: name it in IMPORT_RELAYED"
            )
    return sorted({text for where, expr in found for text in _said(where, expr)})


def _setting_rules(kind: str) -> list[Any]:
    settings = importlib.import_module("shopify_app.api_settings")
    return [r for r in settings.SETTINGS.values() if type(r).__name__ == kind]


def _samples(module: str, expr: ast.expr) -> list[Any]:
    """Values a placeholder takes: the module's own constant when it names one, else samples."""
    source = ast.unparse(expr)
    if source == "rule.noun":  # a setting's noun is part of its sentence: every one
        return sorted({r.noun for r in _setting_rules("SourcesSetting")})
    if source == "rule[1]":  # ledger.mappings.ERP_CODE_RULES: every rule's sentence
        return [rule[1] for rule in importlib.import_module("ledger.mappings").ERP_CODE_RULES.values()]
    if source == "shopify_rule[1]":  # ledger.mappings.SHOPIFY_CODE_RULES: every rule's sentence
        return [rule[1] for rule in importlib.import_module("ledger.mappings").SHOPIFY_CODE_RULES.values()]
    samples = {
        "rule.prefix": ["gid://shopify/Publication/"],
        "', '.join(choices)": ["paid, authorized"],
        "', '.join(rule.choices)": ["DRAFT, ARCHIVED"],
        "', '.join(sorted(extra))": ["nome, cidade"],
        "host": ["erp.example.com.br"],
        "ip": ["10.0.0.7"],
        "scheme": ["http"],
        "cron": ["*/15 * * *"],
        "location_id": ["gid://shopify/Location/3"],
        "erp_code": ["A1"],
        "shopify_code": ["Brasil"],
        "kind": ["cor"],
        "', '.join(missing)": ["erp_code", "shopify_code, erp_code"],
        "code_max": [100, 255],
        "min_length": [3],  # api_common.query_text: a search's shortest text (SEARCH_MIN)
        "company": [5],
        "form": [99],  # ledger.mappings.unlisted_problem: a payment method the ERP does not list
        "nro_empresa": [5],
        "nro_segmento": [6],
        "other.nro_empresa": [6],
        "row.location_id": ["gid://shopify/Location/4"],
        "repeated": ["PIX"],  # ledger.mappings._twice: a name a line before it mapped
        "first_line": [2],
        "len(shopify_code)": [400],  # ledger.mappings.upsert_mapping: a name composed past 255
        "', '.join(map(str, bad[:3]))": ["gerente@loja", "gerente@loja, x y@loja.com.br"],  # alert_emails
    }
    if source in samples:
        return samples[source]
    try:
        return [eval(source, vars(importlib.import_module(module)))]  # noqa: S307 (a constant of the app's own module)
    except NameError:
        pass
    if re.fullmatch(r"(rule\.)?(max_length|minimum|maximum|length|nro|MAX_\w+)", source):
        return [42]
    raise AssertionError(
        f"{module}: give the placeholder {{{source}}} a sample in tests/api/field_messages.py"
    )


def _said(module: str, expr: ast.expr) -> list[str]:
    """The message(s) `expr` says, every placeholder filled with each of its samples."""
    if isinstance(expr, ast.Constant):
        return [str(expr.value)]
    assert isinstance(expr, ast.JoinedStr), ast.unparse(expr)
    parts: list[list[str]] = []
    for value in expr.values:
        if isinstance(value, ast.Constant):
            parts.append([str(value.value)])
        else:
            assert isinstance(value, ast.FormattedValue)
            convert = repr if value.conversion == ord("r") else str
            parts.append([convert(v) for v in _samples(module, value.value)])
    return ["".join(p) for p in itertools.product(*parts)]


def field_messages() -> list[str]:
    """Every field message the API can answer, with sample values, sorted, no repeats."""
    return sorted({text for module, expr in written_messages() for text in _said(module, expr)})


def field_words() -> list[tuple[re.Pattern[str], str]]:
    """api.js FIELD_WORDS as Python patterns: (pattern, catalogue key under error.field.)."""
    source = API_JS.read_text(encoding="utf-8")
    block = source[
        source.index("const FIELD_WORDS = [") : source.index("];", source.index("const FIELD_WORDS = ["))
    ]
    entries = re.findall(r'^\s*\[/(.+)/, "([a-z_]+)"\],$', block, flags=re.MULTILINE)
    return [(re.compile(_python(pattern)), key) for pattern, key in entries]


def _python(pattern: str) -> str:
    """A JS pattern of FIELD_WORDS in Python's syntax: named groups (?<name>...) -> (?P<name>...)."""
    return re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
