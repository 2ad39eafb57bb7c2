"""`python -m adapter models add|list`: put models into the bundle without hand-made mistakes, and see what it holds.

The bundle is `models/` beside the entry script (AML_APP_ROOT, else the function app root; `local.settings.json`
applies, as for `serve`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from adapter import host_config, models
from adapter.paths import FUNCTION_APP_ROOT


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("models", help="add models to the bundle (models/NAME/VERSION/) or list them")
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="{add,list}")
    add = sub.add_parser("add", help="copy a model file or folder in, as models/NAME/VERSION/<its own name>")
    add.add_argument("name", help="the model's name, as registered in AML (what Model.get_model_path asks for)")
    add.add_argument("path", help="the model file or folder to copy")
    add.add_argument("--version", help="its version number (default: one more than the highest bundled)")
    sub.add_parser("list", help="show the bundled models with their versions and sizes")


def main(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    host_config.load_local_settings(FUNCTION_APP_ROOT)
    root = models.app_root()
    if not root.is_dir():
        print(f"error: AML_APP_ROOT must name an existing folder; {str(root)!r} is not one.", file=err)
        return 2
    if args.models_command == "add":
        return _add(root, args.name, Path(args.path), args.version, out, err)
    return _list(root, out, err)


def _add(root: Path, name: str, path: Path, version: str | None, out: TextIO, err: TextIO) -> int:
    try:
        added = models.add(root, name, path, version)
    except models.BundleError as ex:
        print(f"error: {ex}", file=err)
        return 1
    where = added.model.path.relative_to(root) / added.contents[0]
    print(f"Added {where} ({models.human_size(added.size)}).", file=out)
    print(models.describe_model_dir(root), file=out)
    return 0


def _list(root: Path, out: TextIO, err: TextIO) -> int:
    bundle = models.scan(root / models.BUNDLE)
    for message in bundle.problems + bundle.warnings:
        print(f"warning: {message}", file=err)
    if not bundle.versions:
        print(f"No models in {root / models.BUNDLE}. Add one with: python -m adapter models add NAME PATH", file=out)
        return 0
    rows = [("NAME", "VERSION", "SIZE", "CONTENT")] + [
        (e.model.name, str(e.model.version), models.human_size(e.size), ", ".join(e.contents)) for e in bundle.versions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3], file=out)
    print(models.describe_model_dir(root), file=out)
    return 0
