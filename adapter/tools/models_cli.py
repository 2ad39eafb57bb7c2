"""`python -m adapter models add|remove|list`: put models into the bundle (or take them out) without hand-made
mistakes, and see what it holds.

The bundle is `models/` beside the entry script (AML_APP_ROOT, else the function app root; `local.settings.json`
applies, as for `serve`). An add or a remove that moves the default AZUREML_MODEL_DIR (one model version: its
folder; more: `models/`), or that leaves the sample's score.py or model beside the user's, is warned about loudly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from adapter import host_config, mlflow_model, models
from adapter.paths import FUNCTION_APP_ROOT
from adapter.tools.terminal import escape


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("models", help="add models to the bundle (models/NAME/VERSION/), remove or list them")
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="{add,remove,list}")
    add = sub.add_parser("add", help="copy a model file or folder in, as models/NAME/VERSION/<its own name>")
    add.add_argument("name", help="the model's name, as registered in AML (what Model.get_model_path asks for)")
    add.add_argument("path", help="the model file or folder to copy")
    add.add_argument("--version", help="its version number (default: one more than the highest bundled)")
    add.add_argument(
        "--replace",
        action="store_true",
        help="replace that version if it is bundled (default version: the highest bundled, the one scripts load)",
    )
    remove = sub.add_parser("remove", help="delete a model version, or all versions of a model, from the bundle")
    remove.add_argument("name", help="the model's name")
    remove.add_argument("version", nargs="?", help="the version to delete (default: every version)")
    sub.add_parser("list", help="show the bundled models with their versions and sizes")


def main(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    host_config.load_local_settings(FUNCTION_APP_ROOT)
    root = models.app_root()
    if not root.is_dir():
        print(f"error: AML_APP_ROOT must name an existing folder; {str(root)!r} is not one.", file=err)
        return 2
    if args.models_command == "add":
        return _add(root, args.name, Path(args.path), args.version, args.replace, out, err)
    if args.models_command == "remove":
        return _remove(root, args.name, args.version, out, err)
    return _list(root, out, err)


def _add(root: Path, name: str, path: Path, version: str | None, replace: bool, out: TextIO, err: TextIO) -> int:
    before = models.default_model_dir(root)
    bundled = {v.version for v in models.layout(root / models.BUNDLE) if v.name == name}
    try:
        added = models.add(root, name, path, version, replace=replace)
    except models.BundleError as ex:
        print(f"error: {escape(str(ex))}", file=err)
        return 1
    where = added.model.path.relative_to(root) / added.contents[0]
    verb = "Replaced" if added.model.version in bundled else "Added"
    given = Path(os.path.abspath(path))
    source = f", from {given.resolve()}, where {path} leads" if given.resolve() != given else ""
    print(escape(f"{verb} {where} ({models.human_size(added.size)}{source})."), file=out)
    print(models.describe_model_dir(root), file=out)
    if (root / where / mlflow_model.MLMODEL).is_file():
        print(
            f"It is an MLflow model: the app serves it without a score.py, as AML's no-code deployments do, once "
            f"there is no score.py (or with AZUREML_ENTRY_SCRIPT={mlflow_model.ENTRY_SCRIPT_NAME}); its "
            "requirements go in requirements.txt (docs/mlflow.md).",
            file=out,
        )
    _warn(root, before, err)
    return 0


def _remove(root: Path, name: str, version: str | None, out: TextIO, err: TextIO) -> int:
    before = models.default_model_dir(root)
    try:
        removed = models.remove(root, name, version)
    except models.BundleError as ex:
        print(f"error: {escape(str(ex))}", file=err)
        return 1
    shown = ", ".join(str(v.version) for v in removed)
    what = f"{models.BUNDLE}/{name}" + (f"/{version}" if version else f" (versions {shown or 'none'})")
    print(f"Removed {what}.", file=out)
    print(models.describe_model_dir(root), file=out)
    _warn(root, before, err)
    return 0


def _warn(root: Path, before: Path | None, err: TextIO) -> None:
    """The loud part: what the add or remove changed under the script's feet, and sample files left behind."""
    warnings = [] if os.environ.get("AZUREML_MODEL_DIR") else [models.model_dir_change(root, before)]
    entry_script = root / (os.environ.get("AZUREML_ENTRY_SCRIPT") or models.SAMPLE_SCRIPT)
    warnings += models.sample_left_beside(root, entry_script)
    for warning in warnings:
        if warning:
            print(f"WARNING: {escape(warning)}", file=err)


def _list(root: Path, out: TextIO, err: TextIO) -> int:
    bundle = models.scan(root / models.BUNDLE)
    for message in bundle.problems + bundle.warnings:
        print(f"warning: {escape(message)}", file=err)
    if not bundle.versions:
        print(f"No models in {root / models.BUNDLE}. Add one with: python -m adapter models add NAME PATH", file=out)
        return 0
    rows = [("NAME", "VERSION", "SIZE", "CONTENT")] + [
        (e.model.name, str(e.model.version), models.human_size(e.size), ", ".join(e.contents)) for e in bundle.versions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        print(cells + "  " + escape(row[3]), file=out)  # file names as they are on disk
    print(models.describe_model_dir(root), file=out)
    return 0
