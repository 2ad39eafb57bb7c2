"""Issue 20: from an AML deployment to a scoring app with no manual fixing, on deployments in the shapes of
Azure/azureml-examples (tests/deployments/aml_examples, models trained when the tests run).

The end-to-end tests (marked slow) import each shape, check it in the environment check builds from
requirements.txt alone (cached under the user's cache folder), serve from that environment and send the shape's own
sample request; the rest run in-process or with `--no-check`.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from aml_examples import build, ridge_predictions
from targets import CONFIG_PREFIXES, free_port
from test_import import DEPLOYMENTS, app_copy, import_in_process, snapshot

from adapter.tools.check import distributions, pickles, wheels
from adapter.tools.check import package as check_package
from adapter.tools.importer import requirements as conda_deps
from adapter.tools.importer import resolve
from bench import harness

PYTHON = wheels.default_python()


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("examples"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    env.update(extra)
    return env


def run_adapter(app: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "adapter", *args], cwd=app, env=clean_env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def step(output: str, title: str) -> str:
    lines = output.splitlines()
    start = max(i for i, line in enumerate(lines) if f"] {title} ." in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[") or not lines[i]), len(lines))
    return "\n".join(lines[start:end])


# Refusals: one sentence, the right reason, nothing written


@pytest.mark.parametrize(
    ("deployment", "reason"),
    [
        ("refused/triton/triton-cc-deployment.yml", "Triton"),
        ("refused/triton/triton-model-deployment.yml", "Triton"),
        ("refused/torchserve/torchserve-deployment.yml", "TorchServe"),
        ("refused/tfserving/tfserving-deployment.yml", "custom container"),
        ("refused/package/package.yml", "model package"),
        ("refused/package/package-deployment.yml", "model package"),
    ],
)
def test_unsupported_kinds_are_refused_with_their_reason(
    deployment: str, reason: str, examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    before = snapshot(app)
    code, out, err = import_in_process(capsys, str(examples / deployment), "--into", str(app))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and reason in err and "code_configuration must give" not in err
    assert "Container Apps" in err or "import the" in err or "score.py" in err  # what to do instead
    assert snapshot(app) == before


def test_a_gpu_instance_warns_first_and_conda_only_runtimes_are_dropped(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    code, out, _ = import_in_process(
        capsys, str(examples / "managed/gpu/gpu-deployment.yml"), "--into", str(app), "--no-check"
    )
    assert code == 0
    assert out.startswith("WARNING: instance_type Standard_NC6s_v3 has a GPU; Azure Functions runs on CPU")
    requirements = (app / "requirements.txt").read_text()
    assert not any(name in requirements for name in ("pytorch-cuda", "cudatoolkit", "mkl"))
    for entry in ("pytorch-cuda=11.8", "cudatoolkit=11.8", "mkl"):
        assert f"{entry} (conda-only: a CUDA or MKL runtime" in out
    assert "assumed to have the same name on PyPI" not in out


def test_hosting_settings_are_listed_with_what_plays_their_part(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    deployment = examples / "kubernetes/kubernetes-blue-deployment.yml"
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    for line in (
        "  resources: the plan's instance memory (Flex Consumption: --instance-memory)",
        "  tags: az functionapp update --set tags.NAME=VALUE",
        "  scale_settings: scaling is the platform's",
        "  liveness_probe: none: the host watches the worker",
        "  readiness_probe: none: the warm-up trigger runs init()",
        "  instance_count: scaling is the platform's",
        "  request_settings.max_queue_wait_ms: none",
    ):
        assert line in out, out
    assert "functionTimeout in host.json" in out


def test_an_old_environment_resolves_with_numpy_bounded_and_the_apps_lower_bound_kept(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """scikit-learn 1.2.2 with a bare numpy installed NumPy 2 ("numpy.dtype size changed" in init())."""
    app = app_copy(tmp_path)
    deployment = examples / "managed/sample/green-deployment.yml"
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    lines = (app / "requirements.txt").read_text().splitlines()
    assert "numpy>=1.26,<2" in lines and "scikit-learn==1.2.2" in lines and "numpy" not in lines
    assert "numpy (the app's numpy>=1.26 is kept: the environment names no version)" in out
    assert "numpy is bounded below 2 (scikit-learn 1.2.2 was built against NumPy 1" in out
    assert "Python 3.10: the environment asks for 3.10" in out and "--runtime-version 3.10" in out
    assert json.loads((app / ".import-manifest.json").read_text())["python"] == "3.10"


@pytest.mark.process  # import resolves with pip
def test_a_pin_without_a_wheel_for_any_supported_python_says_retrain() -> None:
    text = "inference-schema>=1.8,<2\nscikit-learn==0.24.2\njoblib\n"
    resolved = resolve.resolve(text, "3.7", "3.11")
    if not resolved.checked:
        pytest.skip("PyPI is not reachable")
    assert resolved.python == "3.10"  # the nearest to 3.7
    assert any(
        "scikit-learn==0.24.2 has no wheel for any Python Azure Functions supports: this model needs retraining or "
        "re-saving with a current library" in w
        for w in resolved.warnings
    )
    pinned = [line for line in resolved.text.splitlines() if line.startswith("scikit-learn==")]
    assert pinned and pinned[0] != "scikit-learn==0.24.2"


def test_python_candidates_start_with_the_version_asked_for_or_the_nearest() -> None:
    assert resolve.candidates("3.12", "3.11")[0] == "3.12"
    assert resolve.candidates("3.7", "3.11")[0] == "3.10"
    assert resolve.candidates("3.14", "3.11")[0] == "3.13"
    assert resolve.candidates(None, "3.11")[0] == "3.11"


@pytest.mark.parametrize(
    ("spec", "allowed", "first"),
    [
        ("3.11", ["3.11"], "3.11"),
        ("3.11.*", ["3.11"], "3.11"),
        ("3.11.4", ["3.11"], "3.11"),  # `python=3.11.4` (the `=` is gone) and MLmodel's python_version
        ("3.11=h1234_0", ["3.11"], "3.11"),
        ("3.11.4 h1234_0_cpython", ["3.11"], "3.11"),
        ("<3.12", ["3.10", "3.11"], "3.11"),
        ("!=3.12", ["3.10", "3.11", "3.13"], "3.11"),
        (">3.11", ["3.12", "3.13"], "3.12"),
        (">=3.9,<3.12", ["3.10", "3.11"], "3.10"),
        (">=3.9, <3.12", ["3.10", "3.11"], "3.10"),
        ("<=3.11", ["3.10", "3.11"], "3.11"),
        ("~=3.10", ["3.10", "3.11", "3.12", "3.13"], "3.10"),
        ("3.10|3.12", ["3.10", "3.12"], "3.10"),
        ("3.8|3.9", [], "3.10"),
        ("<3.10", [], "3.10"),
        (">=3.14", [], "3.13"),
    ],
)
def test_the_python_chosen_is_one_the_environments_spec_allows(spec: str, allowed: list[str], first: str) -> None:
    assert resolve.allowed(spec) == allowed
    order = resolve.candidates(spec, "3.11")
    assert order[0] == first
    # Only versions the spec allows are tried; when it allows none, every supported one, the nearest first.
    assert set(order) == set(allowed or ["3.10", "3.11", "3.12", "3.13"])


def test_the_report_gives_the_environments_spec_as_the_reason_only_when_the_chosen_python_meets_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wheels, "resolve", lambda requirements, python: wheels.Resolution(python))
    app = app_copy(tmp_path)
    source = tmp_path / "deployment"
    (source / "code").mkdir(parents=True)
    (source / "code" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    deployment = source / "deployment.yml"
    deployment.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\nname: blue\n"
        "code_configuration:\n  code: code\n  scoring_script: score.py\nenvironment:\n  conda_file: conda.yml\n"
    )
    cannot = (
        "Python 3.10: the environment asks for {}, which Azure Functions cannot meet (it supports 3.10, 3.11, 3.12, "
        "3.13); 3.10 is the nearest version it supports on which requirements.txt installs."
    )
    for entry, said in (
        ("python<3.12", "Python 3.11: the environment asks for <3.12. check tests 3.11"),
        ("python>3.11", "Python 3.12: the environment asks for >3.11. check tests 3.12"),
        ("python>=3.8,<3.10", cannot.format(">=3.8,<3.10")),
        ("python=3.8|3.9", cannot.format("3.8|3.9")),
        (
            "python>=3.8.0rc1",
            "Python 3.10: the environment asks for >=3.8.0rc1, which import cannot read; 3.10 is the nearest version "
            "Azure Functions supports",
        ),
    ):
        (source / "conda.yml").write_text(f"dependencies:\n  - {entry}\n  - joblib\n")
        code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
        assert code == 0, out
        assert [line for line in out.splitlines() if line.startswith("Python ")][0].startswith(said)


def test_the_app_lines_kept_or_replaced_are_judged_on_the_python_finally_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3.10 is tried first and a pin has no wheel there: on 3.11, chosen, the environment's 3.11-only pin replaces the
    app's numpy line; the text merged for 3.10 must not be the one written."""
    tried: dict[str, str] = {}

    def resolved(requirements: Path, python: str) -> wheels.Resolution:
        tried[python] = requirements.read_text()
        missing = (wheels.Missing("scipy==1.15.0", ("1.14.1",)),) if python == "3.10" else ()
        return wheels.Resolution(python, missing=missing)

    monkeypatch.setattr(wheels, "resolve", resolved)
    pins = ['numpy==2.1.3; python_version >= "3.11"', "scipy==1.15.0"]
    lines = conda_deps.from_conda({"dependencies": [{"pip": pins}]}, "conda.yml", Path(".")).lines
    merged: dict[str, str] = {}

    def text_for(python: str) -> str:
        merged[python] = conda_deps.merge("numpy>=1.26\n", lines, "conda.yml", python).text
        return merged[python]

    chosen = resolve.resolve(text_for, ">=3.10,<3.12", "3.11")
    assert list(tried) == ["3.10", "3.11"] and chosen.python == "3.11"
    assert "numpy>=1.26" in tried["3.10"].splitlines()  # on 3.10 the pin says nothing: the app's line stays
    assert chosen.text == merged["3.11"] and "numpy>=1.26" not in chosen.text.splitlines()


def test_merge_keeps_the_apps_bound_for_a_bare_line_and_takes_a_pin() -> None:
    existing = "numpy>=1.26\npandas>=2.1\n"
    lines = [conda_deps.Line("numpy", "numpy", "conda: numpy"), conda_deps.Line("pandas==2.2.3", "pandas", "")]
    merged = conda_deps.merge(existing, lines, "conda.yaml")
    assert merged.text.splitlines()[0] == "numpy>=1.26"
    assert "pandas==2.2.3" in merged.text.splitlines() and "pandas>=2.1" not in merged.text.splitlines()


# A clean replacement, one app-settings command, identity


def test_a_new_import_removes_the_previous_deployments_files(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    first = examples / "managed/binary-payloads/binary-payloads-deployment.yml"
    assert import_in_process(capsys, str(first), "--into", str(app), "--no-check")[0] == 0
    assert (app / "single-file-to-file-score.py").is_file()
    (app / "my_notes.txt").write_text("mine")  # not written by the import: stays
    second = DEPLOYMENTS / "v2_file_model" / "deployment.yml"
    code, out, _ = import_in_process(capsys, str(second), "--into", str(app), "--no-check")
    assert code == 0 and "The previous import's files are gone" in out
    assert not (app / "single-file-to-file-score.py").exists()
    assert (app / "score.py").is_file() and (app / "my_notes.txt").read_text() == "mine"
    recorded = json.loads((app / ".import-manifest.json").read_text())
    assert recorded["files"] == ["score.py"] and recorded["models"] == ["linear-model/3"]
    third = examples / "managed/sample/blue-deployment.yml"
    code, out, _ = import_in_process(capsys, str(third), "--into", str(app), "--no-check")
    assert code == 0 and "models/linear-model/3" in out
    assert sorted(os.listdir(app / "models")) == ["model"]  # the previous deployment's model is not published


def test_import_and_check_print_one_app_settings_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapter import host_config

    app = app_copy(tmp_path)
    code, out, _ = import_in_process(
        capsys, str(DEPLOYMENTS / "v2_file_model" / "deployment.yml"), "--into", str(app), "--no-check"
    )
    assert code == 0
    printed = [line.strip() for line in out.splitlines() if "appsettings set" in line]
    for name in [n for n in os.environ if n.startswith(CONFIG_PREFIXES)]:
        monkeypatch.delenv(name)
    for name in json.loads((app / "local.settings.json").read_text())["Values"]:
        monkeypatch.delenv(name, raising=False)
    applied = host_config.load_local_settings(app)
    try:
        outcome = check_package.app_settings(app, applied)
    finally:
        for name in applied:
            os.environ.pop(name, None)
    assert printed == [line for line in outcome.details if "appsettings set" in line]
    assert "AML_APP_ROOT" not in out


def test_aml_app_root_naming_the_app_folder_is_never_asked_for(tmp_path: Path) -> None:
    env = {"AML_APP_ROOT": str(tmp_path), "MY_SETTING": "1", "AZUREML_MODEL_DIR": str(tmp_path / "models")}
    outcome = check_package.app_settings(tmp_path, ["AML_APP_ROOT", "MY_SETTING", "AZUREML_MODEL_DIR"], env)
    assert "AML_APP_ROOT" not in "\n".join(outcome.details)
    assert "AZUREML_MODEL_DIR=/home/site/wwwroot/models" in outcome.details[-1]


def test_a_script_using_an_identity_gets_the_commands_that_give_one(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    code, out, _ = import_in_process(
        capsys, str(examples / "identity/deployment.yml"), "--into", str(app), "--no-check"
    )
    assert code == 0
    assert "score.py authenticate(s) with an Azure identity" in out
    assert "az functionapp identity assign --name <APP_NAME> --resource-group <RESOURCE_GROUP>" in out
    assert '--role "Key Vault Secrets User"' in out
    assert "Key Vault references among the settings: STORAGE_SECRET" in out


# What check reads and installs


def test_pickles_name_the_libraries_they_need_without_loading(tmp_path: Path) -> None:
    import joblib
    import sklearn
    from sklearn.linear_model import Ridge

    model = Ridge().fit([[0.0], [1.0]], [0.0, 1.0])
    joblib.dump(model, tmp_path / "a.pkl")
    joblib.dump(model, tmp_path / "b.joblib", compress=3)
    (tmp_path / "c.pickle").write_bytes(pickle.dumps(model, protocol=2))
    (tmp_path / "d.pkl").write_bytes(b"\x80\x05" + b"not a pickle")
    needed = pickles.scan(tmp_path)
    assert sorted(needed.modules["sklearn"]) == ["a.pkl", "b.joblib", "c.pickle"]
    assert needed.versions["scikit-learn"] == sklearn.__version__
    assert [distributions.to_install(m) for m in ("sklearn.linear_model", "cv2", "PIL", "joblib", "yaml")] == [
        "scikit-learn",
        "opencv-python-headless",
        "pillow",
        "joblib",
        "pyyaml",
    ]


def test_check_answers_as_score_does_when_run_returns_what_cannot_be_sent(tmp_path: Path) -> None:
    """check used its own copy of the error mapping, without the output guard: an unsendable answer was blamed on
    run() raising; /score answers the JSON 500."""
    app = app_copy(tmp_path)
    (app / "score.py").write_text(
        "from inference_schema.schema_decorators import input_schema\n"
        "from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType\n\n\n"
        "def init():\n    pass\n\n\n"
        "@input_schema('data', StandardPythonParameterType([1, 2]))\n"
        "def run(data):\n    return {'values': set(data)}\n"
    )
    done = run_adapter(app, "check", "--here", "--no-wheels", timeout=300)
    shown = step(done.stdout, "run() answers the example")
    assert "FAILED  run() answered 500" in shown and "An unexpected internal error occurred" in shown, shown
    assert "raised TypeError" not in shown


def never_built(tmp_path: Path) -> tuple[Path, Path]:
    """A requirements.txt whose lines would each run a build backend (its setup.py writes a marker file)."""
    marker = tmp_path / "BUILT"
    source = tmp_path / "markerpkg"
    source.mkdir()
    (source / "setup.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('built')\n"
        "from setuptools import setup\nsetup(name='markerpkg', version='1.0', py_modules=[])\n"
    )
    import tarfile

    sdist = tmp_path / "markerpkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(source, arcname="markerpkg-1.0")
    # Named like a requirement, but pip reads it as the archive of that name in the folder it runs in.
    shutil.copy(sdist, tmp_path / "markerpkg.tgz")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        f"markerpkg @ file://{sdist}\n-e {source}\n--no-binary :all:\n{source}\nmarkerpkg.tgz\nsix\n",
        encoding="utf-8",
    )
    return requirements, marker


def test_the_wheel_step_never_builds_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements, marker = never_built(tmp_path)
    monkeypatch.chdir(tmp_path)  # check runs in the app folder, beside what it may hold
    resolution = wheels.resolve(requirements, PYTHON)
    if resolution.offline:
        pytest.skip("PyPI is not reachable")
    assert not marker.exists()
    kept, left_out = wheels.installable(requirements, PYTHON)
    assert kept == ["six"] and len(left_out) == 5


@pytest.mark.parametrize("use_uv", [True, False], ids=["uv", "pip"])
def test_the_environment_never_builds_a_package(use_uv: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapter.tools.check import environment

    if use_uv and environment.uv_command() is None:
        pytest.skip("uv is not installed")
    monkeypatch.setenv(environment.CACHE_VARIABLE, str(tmp_path / "cache"))
    requirements, marker = never_built(tmp_path)
    monkeypatch.chdir(tmp_path)
    built = environment.build(requirements, PYTHON, use_uv=use_uv)
    assert not marker.exists()
    assert built.installer == ("uv" if use_uv else "pip") and not built.cached
    assert [line.split(" (")[0] for line in built.left_out] == [
        f"markerpkg @ file://{tmp_path / 'markerpkg-1.0.tar.gz'}",
        f"-e {tmp_path / 'markerpkg'}",
        "--no-binary :all:",
        str(tmp_path / "markerpkg"),
        "markerpkg.tgz",
    ]
    shown = subprocess.run(
        [str(built.python), "-c", "import six, sys; print(sys.prefix)"], capture_output=True, text=True, check=True
    )
    assert Path(shown.stdout.strip()) == built.python.parent.parent  # its own environment, nothing of this one
    assert environment.build(requirements, PYTHON, use_uv=use_uv).cached


# End to end: import, check in the environment Azure will build, serve from it


@contextmanager
def serving_from_the_built_environment(app: Path, log: Path) -> Iterator[harness.ServerProcess]:
    """`python -m adapter serve` in the app folder, run by the Python of the environment check built from
    requirements.txt alone for the app's Python, with nothing of this Python's environment: what the Function App
    will run."""
    from adapter.tools.check import environment, target

    built = environment.build(app / "requirements.txt", target.function_app_python(app)[0])
    assert built.cached  # the very environment check built and ran the script in
    port = free_port()
    with harness.ServerProcess(
        "serve from the built environment",
        [str(built.python), "-m", "adapter", "serve", "--port", str(port)],
        port=port,
        cwd=app,
        env=environment.clean_environment(clean_env()),
        log=log,
    ) as server:
        server.wait_ready("/")
        yield server


def test_blue_imports_checks_ready_and_answers_through_serve_from_the_built_environment(
    examples: Path, tmp_path: Path
) -> None:
    app = app_copy(tmp_path)
    done = run_adapter(app, "import", str(examples / "managed/sample/blue-deployment.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"for Python {PYTHON} (chosen by import" in done.stdout
    assert "Ready to publish" in done.stdout and done.stdout.rstrip().endswith("Import done; the check passed.")
    assert "ok      200" not in done.stdout  # run(raw_data) has no example: the request below is the proof
    with serving_from_the_built_environment(app, tmp_path / "serve.log") as server:
        answers_the_regression_sample(examples, server)


# What each shape's own sample request gets, computed here from the trained model or the payload sent


def answers_the_regression_sample(examples: Path, server: harness.ServerProcess) -> None:
    """model-1/sample-request.json, the request azureml-examples sends to every deployment of model-1's code."""
    sample = json.loads((examples / "model-1" / "sample-request.json").read_text())
    answer = requests.post(f"{server.base}/score", json=sample, timeout=60)
    assert answer.status_code == 200, answer.text + server.output()
    assert answer.json() == pytest.approx(ridge_predictions(examples, sample["data"]))


def answers_the_regression_sample_and_serves_its_swagger(examples: Path, server: harness.ServerProcess) -> None:
    answers_the_regression_sample(examples, server)
    declared = json.loads((examples / "managed/openapi/code-custom/swagger2.json").read_text())
    for query in ("", "?version=2"):
        document = requests.get(f"{server.base}/swagger.json{query}", timeout=60)
        assert document.status_code == 200, document.text + server.output()
        assert document.json() == declared


def answers_the_iris_frame(examples: Path, server: harness.ServerProcess) -> None:
    """sample-inputs/pandas.json, a DataFrame as column: {row: value} objects (the request of azureml-examples'
    inference-schema README), classified by the iris model trained for the test."""
    import joblib
    import numpy

    sample = json.loads((examples / "managed/inference-schema/sample-inputs/pandas.json").read_text())
    columns = list(sample["iris"].values())
    rows = [[column[row] for column in columns] for row in columns[0]]
    model = joblib.load(examples / "iris-model" / "models" / "iris.pkl")
    names = numpy.array(["Setosa", "Versicolor", "Virginica"])
    expected = names[model.predict(numpy.array(rows))].tolist()
    assert len(set(expected)) == 3  # a sample whose rows fall in one class could not tell a wrong answer
    answer = requests.post(f"{server.base}/score", json=sample, timeout=60)
    assert answer.status_code == 200, answer.text + server.output()
    assert answer.json() == {"Category": expected}


def answers_an_uploaded_image_with_it_resized(examples: Path, server: harness.ServerProcess) -> None:
    """A JPEG uploaded as the form's `file` (as azureml-examples' `curl -F file=@input.jpg`); the script answers it
    as a 16x16 JPEG."""
    import io

    import numpy
    from PIL import Image

    pixels = numpy.zeros((48, 64, 3), dtype=numpy.uint8)
    pixels[:24, :32] = (230, 30, 30)
    pixels[:24, 32:] = (30, 230, 30)
    pixels[24:, :32] = (30, 30, 230)
    pixels[24:, 32:] = (240, 240, 240)
    sent = io.BytesIO()
    Image.fromarray(pixels).save(sent, format="JPEG", quality=95)
    resized = io.BytesIO()
    Image.open(io.BytesIO(sent.getvalue())).resize((16, 16)).save(resized, format="JPEG")
    expected = numpy.asarray(Image.open(resized), dtype=numpy.int16)
    answer = requests.post(
        f"{server.base}/score", files={"file": ("input.jpg", sent.getvalue(), "image/jpeg")}, timeout=60
    )
    assert answer.status_code == 200, answer.text + server.output()
    assert answer.headers["Content-Type"].startswith("image/jpg")
    image = Image.open(io.BytesIO(answer.content))
    assert (image.format, image.size) == ("JPEG", (16, 16))
    # The built environment's Pillow may encode a little differently from this one: the same picture, not the bytes.
    assert numpy.abs(numpy.asarray(image, dtype=numpy.int16) - expected).max() <= 12


def test_a_custom_container_gets_every_missing_package_in_one_round(examples: Path, tmp_path: Path) -> None:
    import sklearn

    app = app_copy(tmp_path)
    deployment = str(examples / "custom-container/pip-in-dockerfile-deployment.yml")
    done = run_adapter(app, "import", deployment)
    assert done.returncode == 0, done.stdout + done.stderr  # the import succeeded; the check's verdict is its own
    assert "Not ready to publish" in done.stdout
    assert done.stdout.rstrip().endswith("Import done; the check found problems to fix before publishing (above).")
    shown = step(done.stdout, "requirements.txt")
    assert "FAILED  2 import(s) not installed by requirements.txt" in shown
    assert "score.py line 5 imports joblib (joblib): requirements.txt does not install it; add joblib." in shown
    assert f"needs sklearn (scikit-learn, saved with {sklearn.__version__}) to load: add scikit-learn==" in shown
    assert "add joblib to it" in step(done.stdout, "entry script imports")
    strict = run_adapter(app, "import", deployment, "--strict")
    assert strict.returncode == 1


@pytest.mark.parametrize(
    ("deployment", "models", "answers"),
    [
        pytest.param(
            "managed/sample/green-deployment.yml", (), answers_the_regression_sample, id="managed-green"
        ),  # scikit-learn 1.2.2 on Python 3.10 with numpy<2 (import adds the bound)
        pytest.param(
            "kubernetes/kubernetes-blue-deployment.yml", (), answers_the_regression_sample, id="kubernetes-blue"
        ),
        pytest.param(
            "managed/inference-schema/deployment-pandas.yml",
            ("azureml-infschema:1=iris-model/models",),
            answers_the_iris_frame,
            id="inference-schema-pandas",
        ),
        pytest.param(
            "managed/binary-payloads/binary-payloads-deployment.yml",
            (),
            answers_an_uploaded_image_with_it_resized,
            id="binary-payloads",
        ),
        pytest.param(
            "managed/openapi/deployment.yml", (), answers_the_regression_sample_and_serves_its_swagger, id="openapi"
        ),
        pytest.param(
            "managed/minimal-single-model.yml",
            ("minimalregistered:1=model-1/model",),
            answers_the_regression_sample,
            id="minimal-single-model",
        ),
    ],
)
def test_each_shape_checks_ready_and_answers_its_own_sample_from_the_built_environment(
    deployment: str,
    models: tuple[str, ...],
    answers: Callable[[Path, harness.ServerProcess], None],
    examples: Path,
    tmp_path: Path,
) -> None:
    """The other shapes of the issue: import, then check as a user runs it, in an environment built from the written
    requirements.txt alone (cached by its hash: a few seconds each once uv's cache holds the wheels), then serve from
    that environment and answer the shape's own sample request."""
    app = app_copy(tmp_path)
    given = [arg for model in models for arg in ("--model", model.replace("=", f"={examples}/", 1))]
    done = run_adapter(app, "import", str(examples / deployment), "--no-check", *given)
    assert done.returncode == 0, done.stdout + done.stderr
    checked = run_adapter(app, "check", timeout=600)
    assert checked.returncode == 0 and "Ready to publish" in checked.stdout, checked.stdout
    if "pandas" in deployment:
        assert "200 in " in step(checked.stdout, "run() answers the example")
        assert '{"Category": ["Virginica"]}' in step(checked.stdout, "run() answers the example")
    with serving_from_the_built_environment(app, tmp_path / "serve.log") as server:
        answers(examples, server)


def test_version_advice_never_asks_for_a_pin_that_cannot_install() -> None:
    import warnings as stdlib_warnings

    from adapter.tools.check import watch

    class InconsistentVersionWarning(UserWarning):
        def __init__(self, original: str) -> None:
            super().__init__("version mismatch")
            self.original_sklearn_version = original
            self.current_sklearn_version = "1.7.0"
            self.estimator_name = "LinearRegression"

    def advice(original: str) -> str:
        message = stdlib_warnings.WarningMessage(InconsistentVersionWarning(original), UserWarning, "x.py", 1)
        return watch.describe_warning(message)

    old = advice("0.24.2")
    assert "needs retraining or re-saving with a current library" in old and "pin scikit-learn==0.24.2" not in old
    assert "pin scikit-learn==1.6.1 in requirements.txt" in advice("1.6.1")
    # Newer than the running Python's last release (scikit-learn 1.8 requires 3.11): the openapi shape's model,
    # saved here, loaded on the 3.10 its environment asks for. Pinning it there would not install.
    newer = watch.sklearn_advice("Ridge", "1.9.1", "1.7.2", (3, 10))
    assert "pin scikit-learn==1.9.1 in requirements.txt" not in newer
    assert "scikit-learn 1.9.1 has no wheel for Python 3.10" in newer
    assert "pin scikit-learn==1.9.1 on Python 3.11 (check --python 3.11)" in newer
    assert "pin scikit-learn==1.9.1 in requirements.txt" in watch.sklearn_advice("Ridge", "1.9.1", "1.7.2", (3, 11))
    assert "pin scikit-learn==1.7.2 in requirements.txt" in watch.sklearn_advice("Ridge", "1.7.2", "1.6.1", (3, 10))
    missing = wheels.Missing("numpy==1.19.5", ("1.21.2", "1.26.4"))
    assert "this model needs retraining or re-saving" in wheels._missing_line(missing, "3.10")
    assert "or pick Python 3.10" in wheels._missing_line(missing, "3.11")


def test_numpy_2_meeting_a_numpy_1_build_gets_its_fix(tmp_path: Path) -> None:
    from adapter.tools.check import cli as check

    error = ValueError("numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header")
    outcome = check._failure(check._State(tmp_path), "raised", error)
    assert "bound numpy below 2 in requirements.txt (numpy>=1.26,<2" in "\n".join(outcome.details)


def test_an_adapter_requirement_missing_is_named_not_reported_as_a_bug() -> None:
    from adapter.tools.check.report import guarded

    def step() -> None:
        import werkzeug_not_installed_here  # type: ignore[import-not-found]  # noqa: F401

    outcome = guarded(step)  # type: ignore[arg-type]
    assert (
        outcome.summary
        == "requirements.txt does not install 'werkzeug_not_installed_here', which the adapter itself needs"
    )
    assert "please report it" not in "\n".join(outcome.details)


def _pip_report(*wheels_installed: tuple[str, str]) -> dict[str, object]:
    """The part of `pip install --dry-run --report` that the wheel step reads."""
    return {
        "install": [
            {
                "metadata": {"name": name, "version": version},
                "download_info": {"url": f"https://files.example/{name.replace('-', '_')}-{version}-py3-none-any.whl"},
            }
            for name, version in wheels_installed
        ]
    }


def test_a_gpu_build_of_torch_is_named_by_import_and_check_with_the_cpu_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyPI's torch for Linux is the CUDA build (several GB of nvidia-* wheels); Functions runs on CPU."""
    from adapter.tools.check.report import Status

    report = _pip_report(
        ("torch", "2.5.1"), ("nvidia-cublas-cu12", "12.4.5.8"), ("nvidia-cudnn-cu12", "9.1.0.70"), ("numpy", "2.1.3")
    )
    resolution = wheels._resolved("3.11", ["torch==2.5.1", "numpy"], report, [])
    assert resolution.cuda == ("nvidia-cublas-cu12", "nvidia-cudnn-cu12")
    monkeypatch.setattr(wheels, "resolve", lambda requirements, python: resolution)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("torch==2.5.1\nnumpy\n")
    outcome = wheels.check(requirements, "3.11")
    assert outcome.status is Status.WARN and outcome.summary.endswith("a GPU build among them")
    advice = outcome.details[0]
    assert "torch installs the CUDA build (2 nvidia-* packages" in advice
    assert "--extra-index-url https://download.pytorch.org/whl/cpu as the first line" in advice
    assert "(torch==VERSION+cpu)" in advice
    imported = resolve.resolve(requirements.read_text(), "3.11")
    assert advice in imported.warnings and imported.text == requirements.read_text()  # said, not rewritten

    cpu_only = wheels._resolved("3.11", ["scikit-learn"], _pip_report(("scikit-learn", "1.5.2")), [])
    monkeypatch.setattr(wheels, "resolve", lambda requirements, python: cpu_only)
    assert wheels.cuda_advice(cpu_only) is None
    assert wheels.check(requirements, "3.11").status is Status.OK


def test_the_numpy_bound_goes_on_the_numpy_line_that_installs_on_the_chosen_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a numpy line per Python range, `<2` on the line for another Python would leave NumPy 2 installed."""
    report = _pip_report(("scikit-learn", "1.2.2"), ("numpy", "2.1.3"))
    resolution = wheels._resolved("3.11", ["scikit-learn==1.2.2", "numpy>=1.24"], report, [])
    monkeypatch.setattr(wheels, "resolve", lambda requirements, python: resolution)
    text = 'scikit-learn==1.2.2\nnumpy>=1.24; python_version >= "3.10"\nnumpy==1.21.6; python_version < "3.10"\n'
    resolved = resolve.resolve(text, "3.11")
    assert resolved.text.splitlines()[1:] == [
        'numpy>=1.24,<2; python_version >= "3.10"',
        'numpy==1.21.6; python_version < "3.10"',
    ]


def test_only_the_cuda_runtime_counts_as_a_gpu_build_and_a_cpu_torch_is_not_blamed() -> None:
    """pynvml installs nvidia-ml-py (GPU counters, a few hundred KB): not a CUDA build; a torch already +cpu neither."""
    counters = wheels._resolved(
        "3.11", ["pynvml==12.0.0"], _pip_report(("pynvml", "12.0.0"), ("nvidia-ml-py", "12.1")), []
    )
    assert counters.cuda == () and wheels.cuda_advice(counters) is None
    cpu_torch_beside_cuda = wheels._resolved(
        "3.11",
        ["torch==2.3.1+cpu", "cupy-cuda12x"],
        _pip_report(("torch", "2.3.1+cpu"), ("cupy-cuda12x", "13.3.0"), ("nvidia-cuda-runtime-cu12", "12.4.127")),
        [],
    )
    advice = wheels.cuda_advice(cpu_torch_beside_cuda)
    assert advice is not None and advice.startswith("a requirement installs the CUDA build (1 nvidia-* packages")
    assert "torch" not in advice
