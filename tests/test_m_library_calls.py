"""Every standard library name the generated Power Query function uses exists, and every call passes a number of
arguments the function takes: names and calls are read from the syntax tree of Microsoft's parser
(tests/powerquery/library_calls.js); signatures come from @microsoft/powerquery-language-services where it has
them. It ships none (its hosts hand a library in), so the documented signatures in tests/powerquery/signatures.txt
(learn.microsoft.com) are the reference, and the evaluator's own arities are checked against them too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from powerquery.m.library import load
from powerquery.m.values import MFunction
from powerquery.signatures import documented
from powerquery.testing import generated_function
from targets import ROOT

PQ_DIR = ROOT / "tests" / "powerquery"


def node_or_skip() -> str:
    node = shutil.which("node")
    missing = (
        "node is not installed"
        if node is None
        else "run npm ci in tests/powerquery"
        if not (PQ_DIR / "node_modules" / "@microsoft" / "powerquery-language-services").is_dir()
        else None
    )
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (.ci/run installs it)")
        pytest.skip(missing)
    assert node is not None
    return node


def library_calls(text: str, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "function.pq"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [node_or_skip(), str(PQ_DIR / "library_calls.js"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def problems(found: dict[str, Any]) -> list[str]:
    signatures = documented()
    out = [f"{name}: not a documented library name" for name in found["names"] if name not in signatures]
    for c in found["calls"]:
        signature = signatures.get(c["name"])
        if signature is not None and not signature.accepts(c["args"]):
            takes = "is not a function" if signature.arity is None else "takes {}..{}".format(*signature.arity)
            out.append(f"line {c['line']}: {c['name']} called with {c['args']} arguments; it {takes}")
    return out


@pytest.mark.parametrize("url", [None, "https://example.azurewebsites.net/score"], ids=["url-parameter", "url"])
def test_the_generated_function_calls_only_documented_functions_with_their_arity(
    url: str | None, tmp_path: Path
) -> None:
    found = library_calls(generated_function(*(["--url", url] if url else [])), tmp_path)
    assert found["calls"], "no library call found: the syntax walk is broken"
    assert problems(found) == []


def test_a_wrong_arity_or_an_unknown_name_is_reported(tmp_path: Path) -> None:
    found = library_calls(
        'let Tbl = Table.AddColumn(#table({"a"}, {}), "b"), x = Text.Frobnicate("a"), '
        "Local = (t) => t, y = Local(1, 2) in Tbl",
        tmp_path,
    )
    assert problems(found) == [
        "Text.Frobnicate: not a documented library name",
        "line 1: Table.AddColumn called with 2 arguments; it takes 3..4",
    ]


def test_the_language_services_package_says_whether_it_ships_a_standard_library(tmp_path: Path) -> None:
    """If a later version ships one, this fails: then take its signatures instead of signatures.txt."""
    services = library_calls("1", tmp_path)["languageServices"]
    assert services["package"] == "@microsoft/powerquery-language-services"
    assert services["standardLibrary"] is False, services


def test_the_evaluator_implements_each_documented_name_with_the_documented_arity() -> None:
    library = load()
    wrong = []
    for name, signature in documented().items():
        value = library.get(name)
        if value is None:
            wrong.append(f"{name}: not implemented")
        elif signature.arity is None:
            if isinstance(value, MFunction):
                wrong.append(f"{name}: a function, documented as a value")
        elif not isinstance(value, MFunction):
            wrong.append(f"{name}: not a function")
        elif (value.min_args, value.max_args) != signature.arity:
            wrong.append(f"{name}: takes {value.min_args}..{value.max_args}, documented {signature.arity}")
    assert wrong == []


def test_every_function_of_the_evaluator_is_documented() -> None:
    extra = sorted(set(load()) - set(documented()) - {"#shared"})
    assert extra == []
