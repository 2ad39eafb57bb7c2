"""`python -m adapter import`: an AML deployment (v2 YAML with a file model and with a folder model, a v1
InferenceConfig) turned into this function app answers its sample request exactly as azmlinfsrv answers it in AML's
own layout; the requirements, settings and reports it writes; and bad input that changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from targets import CONFIG_PREFIXES, ROOT, Reference, Request, Serve

from adapter.__main__ import main as cli_main
from adapter.tools.importer import requirements as conda_deps

DEPLOYMENTS = Path(__file__).resolve().parent / "deployments"
APP_FILES = (
    "function_app.py",
    "host.json",
    "requirements.txt",
    ".funcignore",
    "score.py",
    "local.settings.sample.json",
)
SKIPPED = shutil.ignore_patterns("__pycache__")


def app_copy(tmp_path: Path) -> Path:
    """A fresh copy of this function app (sample included), as a user's clone would be."""
    app = tmp_path / "app"
    app.mkdir()
    for name in APP_FILES:
        shutil.copy(ROOT / name, app / name)
    shutil.copytree(ROOT / "adapter", app / "adapter", ignore=SKIPPED)
    shutil.copytree(ROOT / "models", app / "models", ignore=SKIPPED)
    return app


def run_import(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "adapter", "import", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def import_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main(["import", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path, skip: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """Every path under `folder` with what it is: file bytes (hashed), folder, or link target; `skip` not opened."""
    found = {}
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(parent, name)
            relative = path.relative_to(folder).as_posix()
            if relative in skip:
                continue
            if path.is_symlink():
                found[relative] = "link " + os.readlink(path)
            elif path.is_dir():
                found[relative] = "dir"
            else:
                found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@dataclass(frozen=True)
class Fixture:
    """A deployment under tests/deployments and how AML itself would lay it out for azmlinfsrv."""

    name: str
    deployment: str
    extra_args: tuple[str, ...]
    #: AML's layout: (what to copy from the fixture, where under the AML app root).
    aml_files: tuple[tuple[str, str], ...]
    aml_env: tuple[tuple[str, str], ...]
    model_dir: str


FIXTURES = [
    Fixture(
        "v2_file_model",
        "deployment.yml",
        (),
        (("onlinescoring", "."), ("model/linear.json", "azureml-models/linear-model/3/linear.json")),
        (
            ("AZUREML_ENTRY_SCRIPT", "score.py"),
            ("OUTPUT_SCALE", "2"),
            ("ROUND_DIGITS", "3"),
            ("SCORING_TIMEOUT_MS", "3000"),
        ),
        "azureml-models/linear-model/3",
    ),
    Fixture(
        "v2_folder_model",
        "deployments/green-deployment.yml",
        (),
        (("src", "."), ("keyword-model", "azureml-models/keyword-model/1/keyword-model")),
        (("AZUREML_ENTRY_SCRIPT", "score.py"), ("KEYWORD_THRESHOLD", "0.5"), ("SCORING_TIMEOUT_MS", "5000")),
        "azureml-models/keyword-model/1",
    ),
    Fixture(
        "v1_inference_config",
        "inferenceconfig.json",
        ("--model", "centroids:2={fixture}/model/centroids.json"),
        (("source_dir", "source_dir"), ("model/centroids.json", "azureml-models/centroids/2/centroids.json")),
        (
            ("AZUREML_ENTRY_SCRIPT", "source_dir/score.py"),
            ("AZUREML_SOURCE_DIRECTORY", "source_dir"),
            ("DISTANCE", "euclidean"),
        ),
        "azureml-models/centroids/2",
    ),
]


def aml_layout(fixture: Fixture, tmp_path: Path) -> dict[str, str]:
    """The deployment as AML runs it: code at /var/azureml-app (v1: in its source directory's folder), the model in
    azureml-models/NAME/VERSION, AZUREML_MODEL_DIR at that version; azmlinfsrv's environment for it."""
    root = tmp_path / "aml"
    for source, destination in fixture.aml_files:
        origin, target = DEPLOYMENTS / fixture.name / source, root / destination
        if origin.is_dir():
            shutil.copytree(origin, target, dirs_exist_ok=True, ignore=SKIPPED)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, target)
    return {"AML_APP_ROOT": str(root), "AZUREML_MODEL_DIR": str(root / fixture.model_dir), **dict(fixture.aml_env)}


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_an_imported_deployment_answers_its_sample_request_as_azmlinfsrv_does(fixture: Fixture, tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    folder = DEPLOYMENTS / fixture.name
    args = [a.format(fixture=folder) for a in fixture.extra_args]
    done = run_import(str(folder / fixture.deployment), "--into", str(app), "--no-check", *args)
    assert done.returncode == 0, done.stderr
    assert not (app / "models" / "iris-classifier").exists()
    body = (folder / "sample-request.json").read_bytes()
    request = Request("POST", headers={"Content-Type": "application/json"}, body=body)
    reference = Reference(aml_layout(fixture, tmp_path), tmp_path / "reference.log")
    try:
        expected = reference.send(request)
    finally:
        reference.stop()
    # Only the imported app's own files configure it: local.settings.json, its bundle, its code.
    served = Serve({}, tmp_path / "serve.log", app_root=app, clean=True)
    try:
        answer = served.send(request)
    finally:
        served.stop()
    assert expected.status == 200, expected.body
    assert (answer.status, answer.body) == (expected.status, expected.body)
    assert answer.headers["content-type"] == expected.headers["content-type"]


def test_v2_file_model_report_requirements_and_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = app_copy(tmp_path)
    code, out, err = import_in_process(
        capsys, str(DEPLOYMENTS / "v2_file_model" / "deployment.yml"), "--into", str(app), "--no-check"
    )
    assert code == 0 and err == ""
    assert not (app / "score.py").read_text().startswith('"""Sample Azure ML entry script')
    assert (app / "models" / "linear-model" / "3" / "linear.json").is_file()
    assert sorted(os.listdir(app / "models")) == ["linear-model"]
    requirements = (app / "requirements.txt").read_text().splitlines()
    block = requirements[requirements.index(next(r for r in requirements if r.startswith(conda_deps.BLOCK_MARK))) :]
    assert block[1:] == ["numpy==1.23.5", "scikit-learn==1.2.2", "joblib==1.2.0"]
    assert "numpy>=1.26" not in requirements  # the environment's pin wins over the sample's
    assert 'azure-functions>=1.20,<2; python_version < "3.13"' in requirements and "werkzeug>=3.0" in requirements
    assert 'azure-functions>=2.0,<3; python_version >= "3.13"' in requirements
    assert "inference-schema[numpy-support]>=1.8,<2" in requirements  # the adapter's version, the extra asked for
    assert not any("azureml-inference-server-http" in r or r.startswith(("python", "pip")) for r in requirements)
    values = json.loads((app / "local.settings.json").read_text())["Values"]
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"  # made from the sample
    expected = {
        "AZUREML_ENTRY_SCRIPT": "score.py",
        "SCORING_TIMEOUT_MS": "3000",
        "SCORING_CONCURRENCY": "2",
        "OUTPUT_SCALE": "2",
        "ROUND_DIGITS": "3",
    }
    assert {k: values[k] for k in expected} == expected
    az = [line.strip() for line in out.splitlines() if line.strip().startswith("az functionapp")]
    assert az == [
        "az functionapp create --name <APP_NAME> --resource-group <RESOURCE_GROUP> --storage-account <STORAGE> "
        "--flexconsumption-location <REGION> --runtime python --runtime-version 3.10",
        # The one app-settings line check prints too: the default entry script needs no setting.
        "az functionapp config appsettings set --name <APP_NAME> --resource-group <RESOURCE_GROUP> --settings "
        "AzureWebJobsDisableHomepage=true OUTPUT_SCALE=2 ROUND_DIGITS=3 SCORING_CONCURRENCY=2 SCORING_TIMEOUT_MS=3000",
    ]
    assert "libgcc-ng (a system library conda installs; pip has no such package)" in out
    assert (
        "Python 3.10: the environment asks for 3.9, which Azure Functions cannot meet (it supports 3.10, 3.11, 3.12, "
        "3.13); 3.10 is the nearest version it supports on which requirements.txt installs." in out
    )
    assert "instance_type: the plan's instance memory" in out and "instance_count: scaling is the platform's" in out
    assert json.loads((app / ".import-manifest.json").read_text())["python"] == "3.10"


def test_v2_folder_model_maps_conda_names_and_follows_pip_includes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    deployment = DEPLOYMENTS / "v2_folder_model" / "deployments" / "green-deployment.yml"
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    # An unnamed folder model: named after its folder, version 1, the folder kept under its name as AML does.
    bundled = app / "models" / "keyword-model" / "1" / "keyword-model"
    assert sorted(os.listdir(bundled)) == ["README.txt", "weights.json"]
    assert (app / "features.py").is_file()
    requirements = (app / "requirements.txt").read_text()
    block = requirements.split(conda_deps.BLOCK_MARK)[1].splitlines()[1:]
    assert block == ["pandas==2.1.*", "torch>=2.0,<3", "regex==2024.5.15"]
    assert "inference-schema[pandas-support]>=1.8,<2" in requirements
    assert "azureml-defaults" not in requirements and "cudatoolkit" not in requirements
    assert "cudatoolkit=11.8 (conda-only: a CUDA or MKL runtime" in out
    assert "azureml-defaults~=1.55 (the AML inference server: the adapter replaces it)" in out
    assert "Python 3.11: the environment asks for 3.11" in out
    assert "--runtime python --runtime-version 3.11" in out


def test_v1_source_directory_keeps_its_name_and_amlignore_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    config = DEPLOYMENTS / "v1_inference_config" / "inferenceconfig.json"
    code, out, _ = import_in_process(capsys, str(config), "--into", str(app), "--no-check")
    assert code == 0
    assert sorted(os.listdir(app / "source_dir")) == ["score.py", "scoring_utils.py"]  # notebooks/ is .amlignore'd
    assert not (app / "score.py").exists()  # the sample went; nothing took its place at the root
    values = json.loads((app / "local.settings.json").read_text())["Values"]
    assert values["AZUREML_ENTRY_SCRIPT"] == "source_dir/score.py"
    assert values["AZUREML_SOURCE_DIRECTORY"] == "source_dir" and values["DISTANCE"] == "euclidean"
    assert "Model: the deployment names none. Bundle each model the script loads" in out
    assert not (app / "models").exists()  # the sample model went, and nothing else was bundled
    assert "numpy==1.24.4" in (app / "requirements.txt").read_text()


def test_registered_model_and_environment_are_named_with_the_commands_that_fetch_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    fixture = DEPLOYMENTS / "v2_file_model"
    deployment = tmp_path / "registered.yml"
    deployment.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
        "name: blue\nendpoint_name: e\nmodel: azureml:my-model:4\n"
        f"code_configuration:\n  code: {fixture / 'onlinescoring'}\n  scoring_script: score.py\n"
        "environment: azureml:my-env:2\n"
    )
    before = (app / "requirements.txt").read_text()
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    assert "WARNING: the model azureml:my-model:4 is not on this machine, so it is not bundled yet." in out
    assert (
        "az ml model download --name my-model --version 4 --download-path ./downloaded --resource-group <RG> "
        "--workspace-name <WS>" in out
    )
    assert "python -m adapter models add my-model ./downloaded/my-model/<FILE_OR_FOLDER> --version 4" in out
    assert "az ml environment show --name my-env --version 2 --resource-group <RG> --workspace-name <WS>" in out
    assert (app / "requirements.txt").read_text() == before
    # The downloaded model given on the command line is bundled in its place.
    downloaded = tmp_path / "downloaded" / "my-model" / "linear.json"
    downloaded.parent.mkdir(parents=True)
    shutil.copy(fixture / "model" / "linear.json", downloaded)
    code, out, _ = import_in_process(
        capsys, str(deployment), "--into", str(app), "--no-check", "--model", f"my-model:4={downloaded}"
    )
    assert code == 0 and "not on this machine" not in out
    assert (app / "models" / "my-model" / "4" / "linear.json").is_file()


def test_importing_again_is_idempotent_and_replace_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    fixture = tmp_path / "deployment"
    shutil.copytree(DEPLOYMENTS / "v2_file_model", fixture)
    deployment = str(fixture / "deployment.yml")
    assert import_in_process(capsys, deployment, "--into", str(app), "--no-check")[0] == 0
    first = snapshot(app)
    code, out, _ = import_in_process(capsys, deployment, "--into", str(app), "--no-check")
    assert code == 0 and "(0 file(s) copied, 1 already there)" in out
    assert "models/linear-model/3 is already bundled, unchanged." in out
    assert snapshot(app) == first  # the requirements block replaced, not appended again
    (fixture / "onlinescoring" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return 1\n")
    (fixture / "model" / "linear.json").write_text('{"weights": [1, 1, 1], "bias": 0}')
    # What the previous import wrote is that deployment's: the new import replaces it without --replace.
    code, out, _ = import_in_process(capsys, deployment, "--into", str(app), "--no-check")
    assert code == 0 and "overwritten: score.py" in out
    assert (app / "score.py").read_text().endswith("return 1\n")
    assert json.loads((app / "models" / "linear-model" / "3" / "linear.json").read_text())["bias"] == 0


def test_a_new_import_leaves_what_the_user_added_even_when_the_previous_deployment_had_it_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file or model version that was already in the app, identical, was not written by the import: the next
    import must not take it for the previous deployment's and delete it."""
    from adapter import models

    app = app_copy(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    score = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"
    for folder in (first, second):
        write(folder / "code" / "score.py", score)
    write(first / "code" / "helpers.py", "def helper():\n    return 1\n")
    write(first / "model" / "model.bin", "weights")
    write(second / "model" / "other.bin", "other weights")
    model = "model:\n  path: model/{}\n  name: {}\n  version: {}\n"
    write(first / "deployment.yml", V2_HEAD + CODE + model.format("model.bin", "mymodel", 2))
    write(second / "deployment.yml", V2_HEAD + CODE + model.format("other.bin", "other", 1))
    # The user's own helpers.py and model version, before any import.
    (app / "helpers.py").write_text("def helper():\n    return 1\n")
    models.add(app, "mymodel", first / "model" / "model.bin", 2)
    code, out, _ = import_in_process(capsys, str(first / "deployment.yml"), "--into", str(app), "--no-check")
    assert code == 0 and "models/mymodel/2 is already bundled, unchanged." in out
    recorded = json.loads((app / ".import-manifest.json").read_text())
    assert recorded["files"] == ["score.py"] and recorded["models"] == []
    code, out, _ = import_in_process(capsys, str(second / "deployment.yml"), "--into", str(app), "--no-check")
    assert code == 0 and "The previous import's files are gone" not in out
    assert (app / "helpers.py").read_text() == "def helper():\n    return 1\n"
    assert (app / "models" / "mymodel" / "2" / "model.bin").read_text() == "weights"
    # What an import did write stays its own when the next import finds it unchanged: a third import removes it.
    code, out, _ = import_in_process(capsys, str(second / "deployment.yml"), "--into", str(app), "--no-check")
    recorded = json.loads((app / ".import-manifest.json").read_text())
    assert code == 0 and recorded["files"] == ["score.py"] and recorded["models"] == ["other/1"]
    code, out, _ = import_in_process(capsys, str(first / "deployment.yml"), "--into", str(app), "--no-check")
    assert code == 0 and "The previous import's files are gone (.import-manifest.json): models/other/1." in out
    assert not (app / "models" / "other").exists() and (app / "helpers.py").is_file()


def test_ends_with_check(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    # The file model's environment (numpy, scikit-learn, joblib): the folder model's torch would make the check's
    # environment gigabytes of CUDA wheels.
    done = run_import(str(DEPLOYMENTS / "v2_file_model" / "deployment.yml"), cwd=app)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Running python -m adapter check (in an environment built from requirements.txt alone):" in done.stdout
    assert "environment from requirements.txt" in done.stdout
    assert done.stdout.rstrip().endswith("Import done; the check passed.")
    assert "entry script score.py" in done.stdout and "linear-model 3" in done.stdout
    assert "Ready to publish" in done.stdout
    assert (app / "models" / "linear-model" / "3" / "linear.json").is_file()  # the default target: this app


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


V2_HEAD = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\nname: blue\n"
CODE = "code_configuration:\n  code: code\n  scoring_script: score.py\n"


def bad_input(case: str, tmp: Path) -> tuple[list[str], str]:
    """A deployment that cannot be imported: (arguments, the start of the sentence that says why)."""
    write(tmp / "code" / "score.py", "def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    yml = tmp / "deployment.yml"
    if case == "missing path":
        return [str(tmp / "nope.yml")], f"error: {tmp / 'nope.yml'} does not exist."
    if case == "a folder":
        return [str(tmp / "code")], f"error: {tmp / 'code'} is a folder"
    if case == "not a deployment":
        write(yml, "name: something\nvalue: 3\n")
        return [str(yml)], f"error: {yml} is not an AML deployment file"
    if case == "a list":
        write(yml, "- a\n- b\n")
        return [str(yml)], f"error: {yml} is not an AML deployment file: it holds list"
    if case == "invalid yaml":
        write(yml, "model: [unclosed\n")
        return [str(yml)], f"error: {yml} is not valid YAML"
    if case == "invalid json":
        write(tmp / "inferenceconfig.json", '{"entryScript": ')
        return [str(tmp / "inferenceconfig.json")], "error: " + str(tmp / "inferenceconfig.json") + " is not valid JSON"
    if case == "endpoint":
        write(
            yml,
            "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
            "name: ep\nauth_mode: key\n",
        )
        return [str(yml)], f"error: {yml} describes an endpoint, not a deployment"
    if case == "batch":
        write(
            yml,
            "$schema: https://azuremlschemas.azureedge.net/latest/batchDeployment.schema.json\nname: b\n"
            "compute: cpu\nmini_batch_size: 10\n",
        )
        return [str(yml)], f"error: {yml} is a batch deployment"
    if case == "unsupported schema":
        write(yml, "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncommand: echo\n")
        return [str(yml)], f"error: {yml} uses the schema https://azuremlschemas.azureedge.net/latest/commandJob"
    if case == "missing code folder":
        write(yml, V2_HEAD + "code_configuration:\n  code: elsewhere\n  scoring_script: score.py\n")
        return [str(yml)], "error: code_configuration.code elsewhere is not a folder"
    if case == "missing scoring script":
        write(yml, V2_HEAD + "code_configuration:\n  code: code\n  scoring_script: main.py\n")
        return [str(yml)], "error: code_configuration.scoring_script main.py is not a file"
    if case == "missing model":
        write(yml, V2_HEAD + CODE + "model:\n  path: model.pkl\n")
        return [str(yml)], f"error: {yml}: model.path model.pkl does not exist"
    if case == "model version not a number":
        write(tmp / "model.pkl", "m")
        write(yml, V2_HEAD + CODE + "model:\n  name: m\n  version: latest\n  path: model.pkl\n")
        return [str(yml)], f"error: {yml}: model version 'latest' is not a whole number"
    if case == "missing conda file":
        write(yml, V2_HEAD + CODE + "environment:\n  conda_file: conda.yml\n")
        return [str(yml)], f"error: {yml}: environment.conda_file conda.yml does not exist"
    if case == "missing pip include":
        write(tmp / "conda.yml", "dependencies:\n  - pip:\n    - -r extra.txt\n")
        write(yml, V2_HEAD + CODE + "environment:\n  conda_file: conda.yml\n")
        return [str(yml)], f"error: The pip requirements file {tmp / 'extra.txt'} does not exist."
    if case == "code holds function_app.py":
        write(tmp / "code" / "function_app.py", "")
        write(yml, V2_HEAD + CODE)
        return [str(yml)], "error: The code holds function_app.py, which belong to the function app itself"
    if case == "symlink out of the code":
        (tmp / "code" / "secret.txt").symlink_to("/etc/hostname")
        write(yml, V2_HEAD + CODE)
        return [str(yml)], "error: The code folder has symlinks to folders, to nowhere or out of it: secret.txt"
    if case == "amlignore not text":
        (tmp / "code" / ".amlignore").write_bytes(b"\xff\xfe notebooks/\n")
        write(yml, V2_HEAD + CODE)
        return [str(yml)], f"error: {tmp / 'code' / '.amlignore'} cannot be read as text"
    if case == "bad --model":
        write(yml, V2_HEAD + CODE)
        return [str(yml), "--model", "../x=model.pkl"], "error: --model ../x=model.pkl: Model name '../x' is not valid"
    raise AssertionError(case)


BAD_INPUTS = [
    "missing path",
    "a folder",
    "not a deployment",
    "a list",
    "invalid yaml",
    "invalid json",
    "endpoint",
    "batch",
    "unsupported schema",
    "missing code folder",
    "missing scoring script",
    "missing model",
    "model version not a number",
    "missing conda file",
    "missing pip include",
    "code holds function_app.py",
    "symlink out of the code",
    "amlignore not text",
    "bad --model",
]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_sentence_and_changes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    before = snapshot(app)
    args, message = bad_input(case, tmp_path / "input")
    code, out, err = import_in_process(capsys, *args, "--into", str(app))
    assert code == 2
    assert out == "" and err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(app) == before


def test_a_target_that_is_not_a_function_app_or_holds_a_linked_bundle_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = str(DEPLOYMENTS / "v2_file_model" / "deployment.yml")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = import_in_process(capsys, deployment, "--into", str(empty))
    assert code == 2 and "is not a function app folder" in err and os.listdir(empty) == []
    app = app_copy(tmp_path)
    outside = tmp_path / "outside"
    shutil.move(app / "models", outside)
    (app / "models").symlink_to(outside)
    before, outside_before = snapshot(app), snapshot(outside)
    code, _, err = import_in_process(capsys, deployment, "--into", str(app))
    assert code == 2 and "models is a symlink; models are only written into a real folder" in err
    assert snapshot(app) == before and snapshot(outside) == outside_before


def test_a_broken_local_settings_json_is_refused_before_any_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    (app / "local.settings.json").write_text("{not json")
    before = snapshot(app)
    code, _, err = import_in_process(capsys, str(DEPLOYMENTS / "v2_file_model" / "deployment.yml"), "--into", str(app))
    assert code == 2 and "local.settings.json is not valid JSON" in err
    assert snapshot(app) == before


def test_without_pyyaml_a_yaml_file_gets_the_install_command(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    before = snapshot(app)
    program = (
        "import sys; sys.modules['yaml'] = None\n"  # what `import yaml` meets when PyYAML is not installed
        "from adapter.__main__ import main\n"
        f"sys.exit(main(['import', {str(DEPLOYMENTS / 'v2_file_model' / 'deployment.yml')!r}, '--into', {str(app)!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == "error: Reading deployment.yml needs PyYAML: python -m pip install pyyaml\n"
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("conda", "pip"),
    [
        ("numpy", "numpy"),
        ("numpy=1.23.5", "numpy==1.23.5"),
        ("numpy=1.23", "numpy==1.23.*"),
        ("numpy=1.23.*", "numpy==1.23.*"),
        ("numpy==1.23.5", "numpy==1.23.5"),
        ("numpy=1.23.5=py39h1234_0", "numpy==1.23.5"),
        ("numpy 1.23.5 py39h1234_0", "numpy==1.23.5"),
        ("numpy>=1.20,<2", "numpy>=1.20,<2"),
        ("numpy >=1.20, <2", "numpy>=1.20,<2"),
        ("conda-forge::scikit-learn=1.2.2", "scikit-learn==1.2.2"),
        ("pytorch=2.1", "torch==2.1.*"),
        ("py-xgboost=1.7.6", "xgboost==1.7.6"),
        ("opencv", "opencv-python-headless"),
        ("numpy[version='>=1.20,<2']", "numpy>=1.20,<2"),
    ],
)
def test_conda_specs_become_pip_requirements(conda: str, pip: str) -> None:
    converted = conda_deps.from_conda({"dependencies": [conda]}, "conda.yml", Path("."))
    assert [line.text for line in converted.lines] == [pip]


def test_what_conda_has_and_pip_does_not_is_listed_not_guessed() -> None:
    converted = conda_deps.from_conda(
        {"dependencies": ["python=3.10", "pip", "mkl", "_libgcc_mutex", "numpy 1.2|1.4", "azureml-defaults"]},
        "conda.yml",
        Path("."),
    )
    assert converted.python == "3.10"
    assert [line.text for line in converted.lines] == ["numpy"]
    assert [item.split(" (")[0] for item in converted.unmapped] == ["_libgcc_mutex", "numpy 1.2|1.4"]
    assert [item.split(" (")[0] for item in converted.dropped] == ["python=3.10", "pip", "mkl", "azureml-defaults"]


def test_merge_keeps_the_apps_lines_and_replaces_its_own_block() -> None:
    existing = "# runtime\nazure-functions>=1.20,<2\nnumpy>=1.26  # sample\nwerkzeug>=3.0\n"
    lines = [
        conda_deps.Line("numpy==1.24.4", "numpy", ""),
        conda_deps.Line("werkzeug==2.0", "werkzeug", ""),
        conda_deps.Line("joblib", "joblib", ""),
    ]
    merged = conda_deps.merge(existing, lines, "conda.yml")
    assert merged.text.splitlines() == [
        "# runtime",
        "azure-functions>=1.20,<2",
        f"{conda_deps.REPLACED_MARK}numpy>=1.26  # sample",  # commented out, for a later import to put back
        "werkzeug>=3.0",
        "",
        f"{conda_deps.BLOCK_MARK} (conda.yml), by `python -m adapter import`; a new import replaces the lines below.",
        "numpy==1.24.4",
        "joblib",
    ]
    assert merged.replaced == ["numpy>=1.26  # sample -> numpy==1.24.4"]
    assert merged.kept == ["werkzeug==2.0 (the adapter needs its own version of werkzeug)"]
    again = conda_deps.merge(merged.text, [conda_deps.Line("scipy", "scipy", "")], "other.yml")
    assert again.text.count(conda_deps.BLOCK_MARK) == 1 and again.text.endswith(
        "(other.yml), by `python -m adapter import`; a new import replaces the lines below.\nscipy\n"
    )


def test_the_apps_lines_an_import_replaced_come_back_when_a_later_import_no_longer_pins_them() -> None:
    """numpy, pillow and requests are the adapter's own needs: a re-import for an environment that does not pin them
    must leave requirements.txt as an import into a fresh app would, not without them."""
    app = (ROOT / "requirements.txt").read_text()
    first = conda_deps.from_conda(
        {"dependencies": ["numpy=1.23.5", "pillow=9.5.0", "requests=2.28.1"]}, "conda.yml", Path(".")
    ).lines
    merged = conda_deps.merge(app, first, "first.yml")
    installed = [line for line in merged.text.splitlines() if line and not line.startswith("#")]
    assert [line for line in installed if line.startswith(("numpy", "pillow", "requests"))] == [
        "numpy==1.23.5",
        "pillow==9.5.0",
        "requests==2.28.1",
    ]
    assert merged.replaced == ["numpy>=1.26 -> numpy==1.23.5", "pillow>=10.0 -> pillow==9.5.0"] + [
        "requests>=2.31 -> requests==2.28.1"
    ]
    assert conda_deps.merge(merged.text, first, "first.yml").text == merged.text  # importing again changes nothing
    second = conda_deps.from_conda({"dependencies": ["scikit-learn=1.5.2"]}, "conda.yml", Path(".")).lines
    again = conda_deps.merge(merged.text, second, "second.yml")
    assert again.text == conda_deps.merge(app, second, "second.yml").text
    assert {"numpy>=1.26", "pillow>=10.0", "requests>=2.31", "scikit-learn==1.5.2"} <= set(again.text.splitlines())


def test_lines_for_one_package_with_different_markers_are_all_kept_and_judged_on_the_chosen_python() -> None:
    app = "numpy>=1.26\npandas>=2.1; python_version >= '3.13'\n"
    pip = ['numpy==1.26.4; python_version >= "3.10"', 'numpy==1.21.6; python_version < "3.10"', "pandas==2.0.3"]
    lines = conda_deps.from_conda({"dependencies": [{"pip": pip}]}, "conda.yml", Path(".")).lines
    # Before the Python is known, and on it: neither marker line takes the other's place.
    written = conda_deps.merge(app, lines, "conda.yml").text.splitlines()
    assert pip[0] in written and pip[1] in written and "pandas==2.0.3" in written
    merged = conda_deps.merge(app, lines, "conda.yml", "3.11")
    written = merged.text.splitlines()
    assert pip[0] in written and pip[1] in written and "pandas==2.0.3" in written
    # On 3.11 the >=3.10 pin replaces the app's numpy line; the <3.10 one installs nothing, and the report says so.
    assert "numpy>=1.26" not in written and merged.replaced == [f"numpy>=1.26 -> {pip[0]}"]
    assert merged.warnings == [
        f"{pip[1]} installs nothing on Python 3.11, the Function App's: its marker is false there (it is written all "
        "the same)."
    ]
    # The app's pandas line is for 3.13 only: on 3.11 pip skips it, so the environment's pin does not replace it.
    assert "pandas>=2.1; python_version >= '3.13'" in written
    # A line for older Pythons only says nothing about 3.11: the app's numpy line stays.
    older = conda_deps.merge(app, lines[1:2], "conda.yml", "3.11")
    assert "numpy>=1.26" in older.text.splitlines() and older.replaced == []
    assert conda_deps.merge(app, lines[1:2], "conda.yml", "3.9").replaced == [f"numpy>=1.26 -> {pip[1]}"]


def test_code_that_funcignore_leaves_out_of_the_package_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    source = tmp_path / "input"
    write(
        source / "code" / "score.py",
        "from scripts.util import f\n\ndef init():\n    pass\n\ndef run(data):\n    return f()\n",
    )
    write(source / "code" / "scripts" / "util.py", "def f():\n    return 1\n")
    deployment = write(source / "deployment.yml", V2_HEAD + CODE)
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0 and (app / "scripts" / "util.py").is_file()
    assert (
        "WARNING: .funcignore leaves copied code out of the published package: scripts/util.py. The script cannot use "
        "it on Azure: move it to another folder or change .funcignore." in out
    )


NO_CODE_HEAD = V2_HEAD + "model:\n  name: m\n  path: model\n  type: mlflow_model\n"


@pytest.mark.parametrize(
    ("head", "collector", "written"),
    [
        # AML's MLflow script collects only what data_collector enables, so the adapter's is asked to.
        (NO_CODE_HEAD, "collections:\n    model_inputs:\n      enabled: 'True'\n    model_outputs:\n"
         "      enabled: 'True'\n  sampling_rate: 0.25\n",
         {"AML_DATA_COLLECTION_LOG": "true", "AML_DATA_COLLECTION_SAMPLE_RATE": "0.25"}),
        (NO_CODE_HEAD, "collections:\n    model_inputs:\n      enabled: true\n", {"AML_DATA_COLLECTION_LOG": "true"}),
        (NO_CODE_HEAD, "collections:\n    model_inputs:\n      enabled: 'False'\n", {}),
        (NO_CODE_HEAD, "collections:\n    request:\n      enabled: 'True'\n", {}),  # payload logging: not the script's
        (NO_CODE_HEAD, None, {}),
        # A score.py collects what it calls collect() on, collection being on by default: nothing to write.
        (V2_HEAD + CODE, "collections:\n    model_inputs:\n      enabled: 'True'\n", {}),
    ],
)  # fmt: skip
def test_import_asks_for_collection_where_the_deployment_enables_the_mlflow_scripts_collections(
    tmp_path: Path, head: str, collector: str | None, written: dict[str, str]
) -> None:
    from adapter.tools.importer import deployment_file

    write(tmp_path / "model" / "MLmodel", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n")
    write(tmp_path / "code" / "score.py", "def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    path = write(tmp_path / "d.yml", head + (f"data_collector:\n  {collector}" if collector else ""))
    deployment = deployment_file.read(path)
    assert {k: v for k, v in deployment.settings.items() if k.startswith("AML_DATA_COLLECTION")} == written
    carried_over = any(
        note.startswith("data_collector: the MLflow model's inputs and outputs are collected")
        for note in deployment.notes
    )
    left_over = any(
        note.strip().startswith("data_collector: AML_DATA_COLLECTION_* settings") for note in deployment.notes
    )
    assert carried_over == bool(written) and left_over == (collector is not None and not written)


def test_a_sampling_rate_that_is_not_a_fraction_is_refused(tmp_path: Path) -> None:
    from adapter.tools.importer import deployment_file

    write(tmp_path / "model" / "MLmodel", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n")
    collector = "data_collector:\n  collections:\n    model_inputs:\n      enabled: 'True'\n  sampling_rate: 25\n"
    path = write(tmp_path / "d.yml", NO_CODE_HEAD + collector)
    with pytest.raises(deployment_file.Refused, match=r"data_collector.sampling_rate must be a number from 0 to 1"):
        deployment_file.read(path)
