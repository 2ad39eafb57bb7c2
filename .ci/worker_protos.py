"""Compile the 4.x Functions worker's gRPC protos into a copy of the worker, for `.ci/run`.

The worker as shipped in `../shared/functions-worker/python/3.11` may come without its compiled protos (its git
checkout ignores `*_pb2*.py`), and without the `.proto` sources. The 3.13 proxy worker beside it carries the same
protos (tag 4.34.0) compiled for protobuf 5.29, whose generated code the 4.x worker's protobuf 4.25 cannot load. This
takes the file descriptors from the proxy's compiled modules and has protoc (grpcio-tools 1.59, the worker's own
generator) write them again, for the worker's package and protobuf 4.25.

    python .ci/worker_protos.py PROXY_PROTOS_DIR WORKER_PROTOS_DIR    (with grpcio-tools 1.59 importable)
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = ("FunctionRpc", "identity/ClaimsIdentityRpc", "shared/NullableTypes")
PACKAGE = "azure_functions_worker.protos"


def main(source: Path, target: Path) -> None:
    from google.protobuf import descriptor_pb2

    descriptors = descriptor_pb2.FileDescriptorSet()
    for name in FILES:
        text = (source / f"{name}_pb2.py").read_text(encoding="utf-8")
        match = re.search(r"AddSerializedFile\((b'.*?')\)\n", text, re.DOTALL)
        if match is None:
            raise SystemExit(f"no serialized descriptor in {source / name}_pb2.py")
        descriptors.file.add().ParseFromString(ast.literal_eval(match.group(1)))
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_set = Path(tmp) / "protos.pb"
        descriptor_set.write_bytes(descriptors.SerializeToString())
        out = Path(tmp) / "out"
        out.mkdir()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"--descriptor_set_in={descriptor_set}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                *(f"{name}.proto" for name in FILES),
            ],
            check=True,
        )
        for generated in out.rglob("*.py"):
            code = generated.read_text(encoding="utf-8")
            # protoc writes imports relative to the proto root; the worker's build points them into its package.
            code = re.sub(r"^from (identity|shared) import", rf"from {PACKAGE}.\1 import", code, flags=re.M)
            code = re.sub(r"^import (\w+_pb2) as", rf"from {PACKAGE} import \1 as", code, flags=re.M)
            destination = target / generated.relative_to(out)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(code, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
