"""`azureml.contrib.services.aml_request`/`aml_response` import from our modules, with or without the real
`azureml` packages installed, and the rest of an installed `azureml` stays untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from targets import ROOT

CHECK = """
import json, sys
from adapter.azureml import shim as azureml_shim
azureml_shim.install()
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse
import azureml.contrib.services.aml_response as response_module
import adapter.azureml.aml_request, adapter.azureml.aml_response
result = {
    "ours": AMLRequest is adapter.azureml.aml_request.AMLRequest
    and AMLResponse is adapter.azureml.aml_response.AMLResponse,
    "module_alias": response_module is adapter.azureml.aml_response,
}
try:
    import azureml.core
    result["core"] = getattr(azureml.core, "MARKER", None)  # without azureml-core: the parent of our core.model
except ImportError:
    result["core"] = None
print(json.dumps(result))
"""


def run_check(extra_path: Path | None) -> dict[str, object]:
    env_path = [str(ROOT)] + ([str(extra_path)] if extra_path else [])
    out = subprocess.run(
        [sys.executable, "-c", CHECK],
        env={"PYTHONPATH": ":".join(env_path), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_works_without_any_azureml_package() -> None:
    assert run_check(None) == {"ours": True, "module_alias": True, "core": None}


def test_ours_win_over_an_installed_contrib_package_and_azureml_core_stays(tmp_path: Path) -> None:
    services = tmp_path / "azureml" / "contrib" / "services"
    services.mkdir(parents=True)
    for package in (tmp_path / "azureml", tmp_path / "azureml" / "contrib", services):
        (package / "__init__.py").write_text("")
    (services / "aml_request.py").write_text("raise ImportError('the installed package must not be used')\n")
    (services / "aml_response.py").write_text("raise ImportError('the installed package must not be used')\n")
    (tmp_path / "azureml" / "core").mkdir()
    (tmp_path / "azureml" / "core" / "__init__.py").write_text("MARKER = 'real azureml.core'\n")
    assert run_check(tmp_path) == {"ours": True, "module_alias": True, "core": "real azureml.core"}
