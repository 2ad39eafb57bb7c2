"""`azureml.contrib.services.aml_request`/`aml_response`, and azmlinfsrv's own `azureml_inference_server_http.api`
path to them, import from our modules, with or without the real packages installed, and the rest of an installed
`azureml` (or azmlinfsrv) stays untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import fresh_python, fresh_python_json
from targets import ROOT, Request, script_env

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
    return fresh_python_json(CHECK, path=[extra_path] if extra_path else [])  # type: ignore[no-any-return]


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


# --- azmlinfsrv's own import path, `azureml_inference_server_http.api` (issue 11, point 1) ---

ID = {"X-Request-Id": "api-path-1"}
API_SCRIPT = "inference_server_api.py"
API_CASES = {
    "post-text": Request("POST", body=b"hello", headers={**ID, "Content-Type": "text/plain", "X-Echo-One": "1"}),
    "post-json": Request(
        "POST", body=b'{"a": [1, 2]}', headers={**ID, "Content-Type": "application/json", "X-Echo-Two": "x, y"}
    ),
    "get-query": Request("GET", query=[("q", "1"), ("q", "2"), ("r", "é")], headers=dict(ID)),
    "options": Request("OPTIONS", headers=dict(ID)),
    "script-500": Request("GET", query=[("fail", "1")], headers=dict(ID)),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_the_inference_server_api_import_path_answers_as_azmlinfsrv(trios, case: str) -> None:  # type: ignore[no-untyped-def]
    """The script's `@rawhttp` (from azmlinfsrv's path, installed here) makes it raw for us too, and its
    `AMLResponse` with custom headers comes out byte for byte as azmlinfsrv sends it."""
    from test_differential import comparable

    trio = trios.get(script_env(API_SCRIPT))
    expected = comparable(trio.reference.send(API_CASES[case]))
    assert expected[0] in (200, 500)
    assert comparable(trio.in_process.send(API_CASES[case])) == expected
    assert comparable(trio.serve.send(API_CASES[case])) == expected


API_CHECK = """
import importlib.util, json, sys
result = {"before": importlib.util.find_spec("azureml_inference_server_http") is not None}
from adapter.azureml import shim as azureml_shim
azureml_shim.install()
from azureml_inference_server_http.api.aml_request import AMLRequest, rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse
import azureml_inference_server_http
import adapter.azureml.aml_request as ours
rawhttp(lambda request: None)
result.update(
    ours=AMLRequest is ours.AMLRequest and AMLResponse.__module__ == "adapter.azureml.aml_response",
    our_flag_set=ours.raw_http_requested,
    version=getattr(azureml_inference_server_http, "__version__", None),
)
print(json.dumps(result))
"""


def site_packages_without(tmp_path: Path, hidden: str) -> Path:
    """A view of this environment's site-packages without the distribution `hidden` (its modules and metadata)."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    view = tmp_path / "site"
    view.mkdir()
    for entry in site.iterdir():
        if not entry.name.lower().startswith(hidden):
            (view / entry.name).symlink_to(entry)
    return view


def test_the_inference_server_api_path_works_without_azmlinfsrv(tmp_path: Path) -> None:
    view = site_packages_without(tmp_path, "azureml_inference_server_http")
    out = subprocess.run(
        [sys.executable, "-S", "-c", API_CHECK],  # -S: no site-packages but the view
        env={"PYTHONPATH": f"{ROOT}:{view}", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == {"before": False, "ours": True, "our_flag_set": True, "version": None}


def test_the_inference_server_api_path_is_ours_next_to_an_installed_azmlinfsrv() -> None:
    """Installed (as in this development environment), its package stays, its request and response are ours."""
    from importlib import metadata

    version = metadata.version("azureml-inference-server-http")
    assert fresh_python_json(API_CHECK) == {"before": True, "ours": True, "our_flag_set": True, "version": version}


def test_modules_imported_from_an_installed_package_before_install_are_replaced(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "import azureml_inference_server_http.api.aml_request as theirs\n"
        "from adapter.azureml import shim\n"
        "shim.install()\n"
        "from azureml_inference_server_http.api.aml_request import rawhttp\n"
        "print(json.dumps(rawhttp.__module__))\n"
    )
    out = fresh_python(code, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == "adapter.azureml.aml_request"
