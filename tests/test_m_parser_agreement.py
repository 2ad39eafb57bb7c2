"""The evaluator's parser agrees with Microsoft's (@microsoft/powerquery-parser, tests/powerquery/parse.js) on what
is M: the constructs the generated text uses parse in both, and text Microsoft's parser refuses is refused here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from powerquery.m.parser import parse
from powerquery.m.values import MError
from targets import ROOT

PQ_DIR = ROOT / "tests" / "powerquery"

ACCEPTED = [
    'let a = 1, #"b c" = a + 1 in #"b c"',
    "(x as number, optional y as nullable text) as number => x",
    "each [a] + _[b]",
    '[a = 1, b = [c = {1, 2}], #"x-y" = null][b][c]{1}?',
    'try error Error.Record("r", "m", [d = 1]) otherwise null',
    "try 1 catch (e) => e[Message]",
    "if 1 = 1 and not false or null ?? true then 1 else 2",
    "type table [a = number, b = nullable text]",
    'type function (x as (type number meta [Documentation.FieldCaption = "x"]), optional y as text) as table '
    'meta [Documentation.Name = "f"]',
    "type [a = number, optional b = text, ...]",
    "type {number}",
    "Value.ReplaceType((x) => x, type function (x as any) as any)",
    "(2 as number) = 2 and 1 is number",
    "{1..3} & {4}",
    "#date(2020, 1, 1) + #duration(1, 0, 0, 0)",
    '#table({"a"}, {{1}}){[a = 1]}[a]',
    "let f = (n) => if n = 0 then 0 else @f(n - 1) in f(3)",
    '"#(cr)#(lf)#(tab)#(#)" & "a""b"',
    "0xFF + 1.5e3 + .5",
    "x[[a], [b]]",
    "let // comment\n a = /* block */ 1 in a",
    "{1} meta [a = 1]",
]
REFUSED = [
    "let a = 1 in",
    "[a = 1",
    "(x) =>",
    "1 +",
    "if true then 1",
    '"unterminated',
    "let a = 1, in a",
    "{1, 2",
]


def microsoft_parses(text: str, tmp_path: Path, name: str) -> bool:
    node = shutil.which("node")
    if node is None or not (PQ_DIR / "node_modules" / "@microsoft" / "powerquery-parser").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("node or the M parser is missing (.ci/run installs it)")
        pytest.skip("run npm ci in tests/powerquery")
    path = tmp_path / f"{name}.pq"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([node, str(PQ_DIR / "parse.js"), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0


def ours_parses(text: str) -> bool:
    try:
        parse(text)
    except MError:
        return False
    return True


def test_both_parsers_accept_the_constructs_the_generated_text_uses(tmp_path: Path) -> None:
    assert [t for t in ACCEPTED if not ours_parses(t)] == []
    # One document holding every construct, so Microsoft's parser runs once.
    document = "{" + ", ".join(f"({t})" for t in ACCEPTED) + "}"
    assert microsoft_parses(document, tmp_path, "all")


@pytest.mark.parametrize("text", REFUSED)
def test_both_parsers_refuse_broken_text(text: str, tmp_path: Path) -> None:
    assert not microsoft_parses(text, tmp_path, "broken")
    assert not ours_parses(text)
