"""Build the Azure Functions Python worker (4.x) from its source tree into a folder the harness can run.

The 4.x worker is not published on PyPI (the last release there is 1.1.9, from 2020, without the v2 programming
model): the Functions host ships it. Given a source tree of the worker (the `azure_functions_worker/` package with
its `protos/_src/src/proto/*.proto` files), this copies the package and generates its gRPC modules with
grpcio-tools, as the worker's own build does, so that `python -m azure_functions_worker` runs from DEST.

    python tests/worker/build.py SOURCE_TREE [DEST]

DEST defaults to the folder the harness looks in first (`tests/worker/harness.py`, `default_worker_dir()`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "azure_functions_worker"
#: The .proto files, dependencies first.
PROTOS = ("shared/NullableTypes.proto", "identity/ClaimsIdentityRpc.proto", "FunctionRpc.proto")


def _absolute_imports(text: str) -> str:
    """protoc writes imports relative to the proto root (`from identity import X_pb2`, `import X_pb2 as y`); the
    modules live in the `azure_functions_worker.protos` package."""
    root = f"{PACKAGE}.protos"
    text = re.sub(
        r"^from (?!google\.)(\w+(?:\.\w+)*) import (\w+_pb2\b)", rf"from {root}.\1 import \2", text, flags=re.M
    )
    return re.sub(r"^import (\w+_pb2) as ", rf"from {root} import \1 as ", text, flags=re.M)


def build(source: Path, dest: Path) -> Path:
    package = source / PACKAGE
    proto_root = package / "protos" / "_src" / "src" / "proto"
    if not (proto_root / "FunctionRpc.proto").is_file():
        raise SystemExit(f"{source} is not a worker source tree: {proto_root / 'FunctionRpc.proto'} is missing")
    target = dest / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("_src", "__pycache__", "*_pb2*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for proto in PROTOS:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "grpc_tools.protoc",
                    f"-I{proto_root}",
                    f"--python_out={out}",
                    f"--grpc_python_out={out}",
                    str(proto_root / proto),
                ],
                check=True,
            )
        generated = sorted(out.rglob("*.py"))
        if not generated:
            raise SystemExit("grpc_tools.protoc generated nothing")
        for module in generated:
            relative = module.relative_to(out)
            (target / "protos" / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / "protos" / relative).write_text(_absolute_imports(module.read_text()))
    return target


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import default_worker_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the worker's source tree (holds azure_functions_worker/)")
    parser.add_argument("dest", type=Path, nargs="?", default=default_worker_dir())
    args = parser.parse_args()
    print(f"built {build(args.source, args.dest)}")


if __name__ == "__main__":
    main()
