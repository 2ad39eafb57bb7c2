"""The tools against hostile input (issue 21): a deployment file, a conda file, a requirements line or a model folder
crafted to write into the app's `.venv` or `.git`, bundle what a link points at, smuggle pip options, take over the
platform's settings, blow up through YAML aliases, hang on a named pipe or drive the terminal. Each is refused in one
line or defused, nothing is written outside the app or into its own code, and nothing runs."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_import import CODE, V2_HEAD, app_copy, import_in_process, run_import, write
from test_import import snapshot as snapshot_files
from test_models import unlistable

from adapter import models
from adapter.tools import documents, terminal
from adapter.tools.importer import requirement_lines
from adapter.tools.importer import requirements as conda_deps

SCORE = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"
ALIAS_BOMB = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under `folder` with what it is (test_import's snapshot), named pipes recorded, never opened."""
    regular = {}
    for parent, _, files in os.walk(folder):
        for name in files:
            path = Path(parent, name)
            mode = path.lstat().st_mode
            regular[path.relative_to(folder).as_posix()] = "fifo" if stat.S_ISFIFO(mode) else None
    pipes = {relative for relative, kind in regular.items() if kind == "fifo"}
    found = snapshot_files(folder, skip=pipes)
    return {**found, **dict.fromkeys(pipes, "fifo")}


def one_line_refusal(done: subprocess.CompletedProcess[str], start: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("error: " + start), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "\x1b" not in done.stderr


def v2_input(folder: Path, extra: str = "", code: str = CODE) -> Path:
    write(folder / "code" / "score.py", SCORE)
    return write(folder / "deployment.yml", V2_HEAD + code + extra)


# Item 1: the app's .venv, .git and own code


def venv_app(tmp_path: Path) -> Path:
    """The function app as a developer has it: with a virtual environment and a git repository."""
    app = app_copy(tmp_path)
    (app / ".venv" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(app)], check=True, timeout=60)
    return app


def test_a_v1_source_directory_named_venv_writes_nothing_into_the_venv(tmp_path: Path) -> None:
    app = venv_app(tmp_path)
    source = tmp_path / "input" / ".venv"
    write(source / "score.py", SCORE)
    write(source / "lib" / "python3.11" / "site-packages" / "evil.pth", "import os; os.mkdir('/tmp/pwned')\n")
    config = write(
        tmp_path / "input" / "inferenceconfig.json", json.dumps({"entryScript": "score.py", "sourceDirectory": ".venv"})
    )
    before = snapshot(tmp_path)
    done = run_import(str(config), "--into", str(app), "--no-check")
    one_line_refusal(done, f"The source directory {source} is named '.venv'")
    assert snapshot(tmp_path) == before


def test_a_v1_source_directory_named_git_does_not_overwrite_git_config_even_with_replace(tmp_path: Path) -> None:
    app = venv_app(tmp_path)
    source = tmp_path / "input" / ".git"
    write(source / "score.py", SCORE)
    write(source / "config", "[core]\n\tfsmonitor = touch marker\n")
    config = write(
        tmp_path / "input" / "inferenceconfig.json", json.dumps({"entryScript": "score.py", "sourceDirectory": ".git"})
    )
    before = snapshot(tmp_path)
    done = run_import(str(config), "--into", str(app), "--no-check", "--replace")
    one_line_refusal(done, f"The source directory {source} is named '.git'")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("owned", ["tests/conftest.py", "pyproject.toml", "bench/run.py"])
def test_code_that_would_land_in_the_apps_own_code_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], owned: str
) -> None:
    app = app_copy(tmp_path)
    deployment = v2_input(tmp_path / "input")
    write(tmp_path / "input" / "code" / owned, "open('marker', 'w')\n")
    before = snapshot(app)
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 2 and out == ""
    assert err.startswith(f"error: The code holds {owned}, which belong to the function app itself"), err
    assert snapshot(app) == before


def test_dot_files_and_dot_folders_of_a_code_folder_are_not_copied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    deployment = v2_input(tmp_path / "input")
    write(tmp_path / "input" / "code" / ".envrc", "touch marker\n")
    write(tmp_path / "input" / "code" / ".vscode" / "settings.json", "{}")
    write(tmp_path / "input" / "code" / "pkg" / ".python-version", "evil\n")
    write(tmp_path / "input" / "code" / "pkg" / "util.py", "X = 1\n")
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    assert (app / "pkg" / "util.py").is_file()
    assert not (app / ".envrc").exists() and not (app / ".vscode").exists()
    assert not (app / "pkg" / ".python-version").exists()
    assert "Note: Not copied: .vscode/, .envrc, pkg/.python-version (dot-files and dot-folders" in out


# Item 2: links out of a model folder


def test_a_model_folder_linking_out_is_refused_and_bundles_nothing(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    secrets = write(tmp_path / "home" / ".ssh" / "id_rsa", "PRIVATE KEY\n").parent
    model = tmp_path / "input" / "model"
    write(model / "weights.json", "{}")
    (model / "cache").symlink_to(secrets)
    deployment = v2_input(tmp_path / "input", "model:\n  name: m\n  version: 1\n  path: model\n")
    before = snapshot(tmp_path)
    done = run_import(str(deployment), "--into", str(app), "--no-check")
    one_line_refusal(done, f"The model folder {model} has symlinks to folders, to nowhere or out of it: cache/")
    assert snapshot(tmp_path) == before


def test_a_file_link_out_of_a_model_folder_is_refused_by_models_add_and_a_link_inside_is_copied(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "password\n")
    model = tmp_path / "model"
    write(model / "blobs" / "abc", "weights\n")
    (model / "weights.bin").symlink_to(model / "blobs" / "abc")
    (model / "key").symlink_to(secret)
    (tmp_path / "app").mkdir()
    with pytest.raises(models.BundleError, match="symlinks to folders, to nowhere or out of it: key"):
        models.add(tmp_path / "app", "m", model)
    assert not (tmp_path / "app" / "models" / "m").exists() or not any((tmp_path / "app" / "models" / "m").iterdir())
    (model / "key").unlink()
    added = models.add(tmp_path / "app", "m", model)
    copied = added.model.path / "model" / "weights.bin"
    assert not copied.is_symlink() and copied.read_text() == "weights\n"


# Item 3: requirements smuggling


def test_smuggled_requirement_lines_are_not_written_and_a_pip_line_the_user_passes_is_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    write(tmp_path / "elsewhere" / "secrets.txt", "password=hunter2\nleaked-package\n")
    conda = {
        "dependencies": [
            "python=3.11",
            {
                "pip": [
                    "joblib\n--no-binary :all:",
                    "-e git+https://example.invalid/evil.git#egg=evil",
                    "--extra-index-url https://example.invalid/simple",
                    "evil @ https://example.invalid/evil-1.0.tar.gz",
                    "scipy==1.11.4 --install-option=--prefix=/tmp",
                    "-r ../elsewhere/secrets.txt",
                    'numpy==1.26.4; python_version < "3.13"',
                ]
            },
        ]
    }
    write(tmp_path / "input" / "env" / "conda.yml", json.dumps(conda))
    deployment = v2_input(tmp_path / "input", "environment:\n  conda_file: env/conda.yml\n")
    code, out, _ = import_in_process(
        capsys, str(deployment), "--into", str(app), "--no-check", "--pip", "--index-url https://mirror.example/simple"
    )
    assert code == 0
    text = (app / "requirements.txt").read_text()
    block = text.split(conda_deps.BLOCK_MARK)[1].splitlines()[1:]
    assert block == ["--index-url https://mirror.example/simple", 'numpy==1.26.4; python_version < "3.13"']
    assert "hunter2" not in text and "leaked-package" not in text and "--no-binary" not in text
    assert "example.invalid" not in text
    report = out[out.index("NOT carried over:") : out.index("\nPython ")]
    for smuggled in ("joblib\\n--no-binary :all:", "-e git+", "--extra-index-url", "evil @ https", "--install-option"):
        assert smuggled in report
    assert "-r ../elsewhere/secrets.txt (an include of a file outside" in report
    assert "passed with --pip, written as given:\n    --index-url https://mirror.example/simple" in out
    assert "hunter2" not in out


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("numpy", True),
        ("numpy==1.26.4", True),
        ("inference-schema[numpy-support]>=1.8,<2", True),
        ('azure-functions>=1.20,<2; python_version < "3.13"', True),
        ("torch (>=2.0, <3)", True),
        ("pkg==1.0+cpu", True),
        ("numpy\n--no-binary :all:", False),
        ("numpy\r", False),
        ("--extra-index-url https://x", False),
        ("-e .", False),
        ("-r other.txt", False),
        ("pkg @ https://x/pkg.whl", False),
        ("git+https://x/y.git", False),
        ("numpy --hash=sha256:abc", False),
        ("numpy; os_name == 'nt' --install-option=x", False),
        ("numpy; __import__('os')", False),
        ("numpy=1.2", False),
    ],
)
def test_only_plain_requirements_pass(line: str, ok: bool) -> None:
    assert (requirement_lines.problem(line) is None) == ok


def test_a_conda_file_name_with_a_line_break_cannot_write_a_line_of_its_own() -> None:
    merged = conda_deps.merge("", [conda_deps.Line("numpy", "numpy", "")], "conda\n-e git+https://x.yml")
    assert merged.text.splitlines()[1:] == ["numpy"]


# Item 5: platform settings


def test_platform_settings_are_refused_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = app_copy(tmp_path)
    variables = {
        "FUNCTIONS_WORKER_RUNTIME": "node",
        "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=attacker",
        "AzureWebJobsSecretStorageType": "files",
        "WEBSITE_RUN_FROM_PACKAGE": "https://example.invalid/app.zip",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
        "MY_SETTING": "kept",
    }
    deployment = v2_input(tmp_path / "input", "environment_variables: " + json.dumps(variables) + "\n")
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    values = json.loads((app / "local.settings.json").read_text())["Values"]
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python" and values["MY_SETTING"] == "kept"
    sample = json.loads((app / "local.settings.sample.json").read_text())["Values"]
    assert values["AzureWebJobsStorage"] == sample["AzureWebJobsStorage"]  # the storage emulator, untouched
    assert not {"AzureWebJobsSecretStorageType", "WEBSITE_RUN_FROM_PACKAGE"} & set(values)
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" not in values
    az = next(line for line in out.splitlines() if "az functionapp config appsettings set" in line)
    assert "MY_SETTING=kept" in az and "attacker" not in az and "node" not in az and "WEBSITE" not in az
    for name in variables:
        if name != "MY_SETTING":
            assert f"WARNING: not carried over, the platform owns this setting: {name} (" in out
    assert "AzureWebJobsStorage (the Functions host's storage, keys and features" in out


# Item 6: YAML alias bomb


def test_a_yaml_alias_bomb_is_refused_in_one_line(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    deployment = write(
        tmp_path / "input" / "deployment.yml", V2_HEAD + CODE + ALIAS_BOMB + "environment_variables:\n  X: *a9\n"
    )
    write(tmp_path / "input" / "code" / "score.py", SCORE)
    before = snapshot(tmp_path)
    done = run_import(str(deployment), "--into", str(app), "--no-check")
    one_line_refusal(done, f"{deployment} is refused: its aliases expand to more than 100,000 values")
    assert snapshot(tmp_path) == before


def test_yaml_that_refers_to_itself_or_nests_too_deep_is_refused() -> None:
    with pytest.raises(documents.DocumentError, match="refers to the node that holds it"):
        documents.parse_yaml("a: &x [1, *x]\n", "x.yml", "x.yml")
    with pytest.raises(documents.DocumentError, match="nests deeper than 100 levels"):
        documents.parse_yaml("[" * 150 + "]" * 150, "x.yml", "x.yml")
    with pytest.raises(documents.DocumentError, match="nests deeper than"):
        documents.parse_yaml("[" * 5000, "x.yml", "x.yml")
    assert documents.parse_yaml("a: &x {b: 1}\nc: *x\n", "x.yml", "x.yml") == {"a": {"b": 1}, "c": {"b": 1}}


# Item 7: escape sequences reach the terminal escaped


def test_escape_sequences_in_settings_and_names_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    variables = {"TITLE": "\x1b]0;owned\x07", "CLEAR": "\x1b[2J\x1b[H", "NL": "a\nWARNING: fake"}
    deployment = v2_input(tmp_path / "input", "environment_variables: " + json.dumps(variables) + "\n")
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0
    assert "\x1b" not in out + err and "\x07" not in out
    assert "TITLE=\\x1b]0;owned\\x07" in out and "CLEAR=\\x1b[2J\\x1b[H" in out
    assert "\nWARNING: fake" not in out and "NL=a\\nWARNING: fake" in out
    assert "WARNING: the values of TITLE, CLEAR, NL hold control characters" in out
    values = json.loads((app / "local.settings.json").read_text())["Values"]
    assert values["CLEAR"] == "\x1b[2J\x1b[H"  # the value itself is kept as the deployment gives it
    missing = tmp_path / "input" / "gone\x1b[2J.yml"
    code, out, err = import_in_process(capsys, str(missing), "--into", str(app))
    assert code == 2 and "\x1b" not in err and "gone\\x1b[2J.yml does not exist" in err


def test_escape_leaves_text_and_escapes_controls() -> None:
    assert terminal.escape("naïve café 数据") == "naïve café 数据"
    assert terminal.escape("a\x1b[31mb\x9bc\u202ed\n") == "a\\x1b[31mb\\x9bc\\u202ed\\n"


# Item 8: a conda file that is not YAML is not quoted


def test_a_conda_file_that_is_not_yaml_is_refused_without_quoting_it(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    key = write(
        tmp_path / "home" / "id_rsa",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUA: x: y\n"
        "-----END OPENSSH PRIVATE KEY-----\n",
    )
    deployment = v2_input(tmp_path / "input", f"environment:\n  conda_file: {key}\n")
    before = snapshot(tmp_path)
    done = run_import(str(deployment), "--into", str(app), "--no-check")
    one_line_refusal(done, f"The conda file {key} is not valid YAML (mapping values are not allowed here at line 2")
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA" not in done.stderr and "PRIVATE" not in done.stderr
    assert snapshot(tmp_path) == before


# Named pipes: refused without opening them


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


FIFO_CASES: dict[str, Callable[[Path], tuple[list[str], str]]] = {}


def fifo_case(
    name: str,
) -> Callable[[Callable[[Path], tuple[list[str], str]]], Callable[[Path], tuple[list[str], str]]]:
    def register(build: Callable[[Path], tuple[list[str], str]]) -> Callable[[Path], tuple[list[str], str]]:
        FIFO_CASES[name] = build
        return build

    return register


@fifo_case("the deployment file")
def _fifo_deployment(folder: Path) -> tuple[list[str], str]:
    path = fifo(folder / "deployment.yml")
    return [str(path)], f"{path} is a named pipe (FIFO), not a regular file; it is not opened."


@fifo_case("the conda file")
def _fifo_conda(folder: Path) -> tuple[list[str], str]:
    fifo(folder / "conda.yml")
    deployment = v2_input(folder, "environment:\n  conda_file: conda.yml\n")
    return [str(deployment)], f"{deployment}: environment.conda_file conda.yml is not a regular file"


@fifo_case("a pip include")
def _fifo_include(folder: Path) -> tuple[list[str], str]:
    fifo(folder / "extra.txt")
    write(folder / "conda.yml", "dependencies:\n  - pip:\n    - -r extra.txt\n")
    deployment = v2_input(folder, "environment:\n  conda_file: conda.yml\n")
    return [str(deployment)], f"The pip requirements file {(folder / 'extra.txt').resolve()} is a named pipe"


@fifo_case("a file of the code folder")
def _fifo_code(folder: Path) -> tuple[list[str], str]:
    deployment = v2_input(folder)
    fifo(folder / "code" / "data.csv")
    return [str(deployment)], "The code folder has entries that are neither files nor folders"


@fifo_case("a file of the model folder")
def _fifo_model(folder: Path) -> tuple[list[str], str]:
    write(folder / "model" / "weights.json", "{}")
    fifo(folder / "model" / "stream")
    deployment = v2_input(folder, "model:\n  path: model\n")
    return [str(deployment)], f"The model folder {folder / 'model'} has entries that are neither files nor folders"


@pytest.mark.parametrize("case", sorted(FIFO_CASES))
def test_a_named_pipe_is_refused_without_opening_it(tmp_path: Path, case: str) -> None:
    app = app_copy(tmp_path)
    args, message = FIFO_CASES[case](tmp_path / "input")
    before = snapshot(tmp_path)
    done = run_import(*args, "--into", str(app), "--no-check")
    one_line_refusal(done, message)
    assert snapshot(tmp_path) == before


def test_the_bounded_reader_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    with pytest.raises(documents.DocumentError, match="is a folder, not a regular file"):
        documents.read_text(tmp_path)
    big = tmp_path / "big.yml"
    big.write_bytes(b"a" * (documents.MAX_BYTES + 1))
    with pytest.raises(documents.DocumentError, match="is larger than 1024 KB"):
        documents.read_document(big)
    (tmp_path / "bad.json").write_text('{"password": "hunter2"')
    with pytest.raises(documents.DocumentError) as raised:
        documents.read_document(tmp_path / "bad.json")
    assert "hunter2" not in str(raised.value)


# Done when: a deployment crafted with each hostile pattern writes nothing outside the app, runs nothing, and is
# refused in one line (or, for what can be defused, imported without it)


def hostile_app(tmp_path: Path) -> tuple[Path, Path]:
    """A developer's app (with .venv and git) and an empty folder that anything run would leave a marker in."""
    app = venv_app(tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    return app, markers


def _pth(markers: Path) -> str:
    return f"import pathlib; pathlib.Path({str(markers / 'pth-ran')!r}).touch()\n"


def hostile(case: str, folder: Path, markers: Path) -> tuple[list[str], str | None]:
    """(import arguments, the start of the one-line refusal, or None when the import goes ahead defused)."""
    code = folder / "code"
    write(code / "score.py", SCORE)
    outside = write(folder.parent / "secrets" / "id_rsa", "PRIVATE KEY\n").parent
    if case == "dot-folder name .venv":
        source = folder / ".venv"
        write(source / "score.py", SCORE)
        write(source / "lib" / "python3.11" / "site-packages" / "evil.pth", _pth(markers))
        config = write(folder / "ic.json", json.dumps({"entryScript": "score.py", "sourceDirectory": ".venv"}))
        return [str(config)], f"The source directory {source} is named '.venv'"
    if case == "dot-folder name .git":
        source = folder / ".git"
        write(source / "score.py", SCORE)
        write(source / "config", f"[core]\n\tfsmonitor = touch {markers / 'git-ran'}\n")
        config = write(folder / "ic.json", json.dumps({"entryScript": "score.py", "sourceDirectory": ".git"}))
        return [str(config), "--replace"], f"The source directory {source} is named '.git'"
    if case == "dot-folders inside the code":
        write(code / ".venv" / "lib" / "python3.11" / "site-packages" / "evil.pth", _pth(markers))
        write(code / ".git" / "config", f"[core]\n\tfsmonitor = touch {markers / 'git-ran'}\n")
        write(code / ".envrc", f"touch {markers / 'envrc-ran'}\n")
        return [str(write(folder / "d.yml", V2_HEAD + CODE))], None
    if case == "link out of the code folder":
        (code / "keys").symlink_to(outside)
        return [str(write(folder / "d.yml", V2_HEAD + CODE))], "The code folder has symlinks"
    if case == "link out of the model folder":
        write(folder / "model" / "weights.json", "{}")
        (folder / "model" / "cache").symlink_to(outside)
        deployment = write(folder / "d.yml", V2_HEAD + CODE + "model:\n  path: model\n")
        return [str(deployment)], f"The model folder {folder / 'model'} has symlinks"
    if case == "newline and option lines":
        pip = ["numpy==1.26.4\n-e git+https://example.invalid/x.git", "--extra-index-url https://example.invalid"]
        pip += ["-r ../secrets/id_rsa", f"evil @ file://{folder}/evil", "joblib==1.3.2"]
        write(folder / "conda.yml", json.dumps({"dependencies": [{"pip": pip}]}))
        return [str(write(folder / "d.yml", V2_HEAD + CODE + "environment:\n  conda_file: conda.yml\n"))], None
    if case == "alias bomb":
        deployment = write(folder / "d.yml", V2_HEAD + CODE + ALIAS_BOMB + "environment_variables:\n  X: *a9\n")
        return [str(deployment)], f"{deployment} is refused: its aliases expand"
    if case == "platform settings":
        variables = {"FUNCTIONS_WORKER_RUNTIME": "node", "AzureWebJobsStorage": "x", "WEBSITE_RUN_FROM_PACKAGE": "1"}
        return [
            str(write(folder / "d.yml", V2_HEAD + CODE + f"environment_variables: {json.dumps(variables)}\n"))
        ], None
    if case == "escape sequences":
        variables = {"T": "\x1b]0;title\x07\x1b[2J", "N": "x\nWARNING: fake"}
        return [
            str(write(folder / "d.yml", V2_HEAD + CODE + f"environment_variables: {json.dumps(variables)}\n"))
        ], None
    if case == "named pipe":
        fifo(code / "feed.csv")
        return [str(write(folder / "d.yml", V2_HEAD + CODE))], "The code folder has entries that are neither"
    raise AssertionError(case)


HOSTILE = [
    "dot-folder name .venv",
    "dot-folder name .git",
    "dot-folders inside the code",
    "link out of the code folder",
    "link out of the model folder",
    "newline and option lines",
    "alias bomb",
    "platform settings",
    "escape sequences",
    "named pipe",
]
#: What an import may change in the app: the sample goes, the code, requirements and settings come.
#: What an import writes: the code, the requirements, the settings, the models, and its own record of them.
MAY_CHANGE = ("score.py", "requirements.txt", "local.settings.json", "models", ".import-manifest.json")


def nothing_ran(app: Path, markers: Path) -> None:
    """Use the app as a developer would after the import: git in it, Python with its .venv's site-packages."""
    subprocess.run(["git", "-C", str(app), "status", "--short"], capture_output=True, timeout=60, check=True)
    site_packages = str(app / ".venv" / "lib" / "python3.11" / "site-packages")
    program = f"import site; site.addsitedir({site_packages!r})"
    subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60, check=True)
    assert os.listdir(markers) == []


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_deployment_writes_nothing_outside_the_app_and_runs_nothing(tmp_path: Path, case: str) -> None:
    app, markers = hostile_app(tmp_path)
    args, refusal = hostile(case, tmp_path / "input", markers)
    before = snapshot(tmp_path)
    done = run_import(*args, "--into", str(app), "--no-check")
    after = snapshot(tmp_path)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    if refusal is not None:
        one_line_refusal(done, refusal)
        assert changed == set()
    else:
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout + done.stderr and "Traceback" not in done.stderr
        assert all(path.startswith(tuple(f"app/{name}" for name in MAY_CHANGE)) for path in changed), changed
        written = (app / "requirements.txt").read_text()
        block = written.split(conda_deps.BLOCK_MARK)[1].splitlines()[1:] if conda_deps.BLOCK_MARK in written else []
        assert all(requirement_lines.problem(line) is None for line in block), block
        values = json.loads((app / "local.settings.json").read_text())["Values"]
        assert values["FUNCTIONS_WORKER_RUNTIME"] == "python" and "WEBSITE_RUN_FROM_PACKAGE" not in values
    nothing_ran(app, markers)


def test_a_deployment_with_every_hostile_pattern_at_once_is_refused_in_one_line(tmp_path: Path) -> None:
    app, markers = hostile_app(tmp_path)
    folder = tmp_path / "input"
    for case in HOSTILE:  # every pattern's files in one input folder
        hostile(case, folder, markers)
    variables = {"FUNCTIONS_WORKER_RUNTIME": "node", "T": "\x1b[2J"}
    deployment = write(
        folder / "all.yml",
        V2_HEAD
        + CODE
        + "model:\n  path: model\nenvironment:\n  conda_file: conda.yml\n"
        + f"environment_variables: {json.dumps(variables)}\n",
    )
    before = snapshot(tmp_path)
    done = run_import(str(deployment), "--into", str(app), "--no-check")
    one_line_refusal(done, "The code folder has symlinks")
    assert snapshot(tmp_path) == before
    nothing_ran(app, markers)


def test_a_code_folder_with_an_unreadable_subfolder_is_refused_with_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """os.walk skipped an unreadable folder without a word, so the app got part of the code. Tests run as root, who
    reads everything: listing the folder is made to fail as it does for another user."""
    app = app_copy(tmp_path)
    deployment = v2_input(tmp_path / "input")
    write(tmp_path / "input" / "code" / "helpers" / "features.py", "X = 1\n")
    before = snapshot(app)
    unlistable(monkeypatch, tmp_path / "input" / "code" / "helpers")
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 2 and out == "", out
    assert (
        err == "error: The code folder has folders that cannot be read: helpers/ (Permission denied); a copy "
        "would leave out what they hold, so nothing is copied. Make them readable (or remove them) and try again.\n"
    )
    monkeypatch.undo()
    assert snapshot(app) == before


def test_check_shows_names_from_the_app_escaped() -> None:
    from adapter.tools.check.report import Outcome, Reporter

    out = io.StringIO()
    Reporter(out, 1).run("entry script", lambda: Outcome.fail("cannot import gone\x1b[2J.py", "in \x1b]0;title\x07"))
    assert "\x1b" not in out.getvalue() and "gone\\x1b[2J.py" in out.getvalue()


def test_check_after_an_import_runs_without_the_settings_that_change_how_programs_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapter.tools.check import cli as check

    app = app_copy(tmp_path)
    variables = {"LD_PRELOAD": str(tmp_path / "evil.so"), "PYTHONSTARTUP": "x.py", "BASH_ENV": "x.sh", "MINE": "1"}
    deployment = v2_input(tmp_path / "input", "environment_variables: " + json.dumps(variables) + "\n")
    for name in [*variables, "AML_APP_ROOT", "AZUREML_ENTRY_SCRIPT"]:
        monkeypatch.delenv(name, raising=False)  # put back as they were once the test ends
    seen: dict[str, str | None] = {}

    def fake_check(root: Path, out: object, **options: object) -> int:
        seen.update({name: os.environ.get(name) for name in variables})
        return 0

    monkeypatch.setattr(check, "run", fake_check)
    code, out, _ = import_in_process(capsys, str(deployment), "--into", str(app))
    assert code == 0
    assert seen == {"LD_PRELOAD": None, "PYTHONSTARTUP": None, "BASH_ENV": None, "MINE": "1"}
    values = json.loads((app / "local.settings.json").read_text())["Values"]
    assert values["LD_PRELOAD"] == variables["LD_PRELOAD"]  # still the deployment's setting, for Azure


@pytest.mark.parametrize("line", ["numpy\n--no-binary :all:", "  ", "x\x1b[2J"])
def test_a_pip_line_from_the_command_line_must_be_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    app = app_copy(tmp_path)
    deployment = v2_input(tmp_path / "input")
    before = snapshot(app)
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--pip", line)
    assert code == 2 and out == "" and err.startswith("error: --pip ") and "must be one non-empty line" in err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert snapshot(app) == before


def test_a_lone_entry_script_with_a_dot_name_and_a_setting_name_with_controls_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    write(tmp_path / "input" / ".pythonrc.py", SCORE)
    config = write(tmp_path / "input" / "ic.json", json.dumps({"entryScript": ".pythonrc.py"}))
    before = snapshot(app)
    code, _, err = import_in_process(capsys, str(config), "--into", str(app), "--no-check")
    assert code == 2 and err.startswith("error: The code holds .pythonrc.py, which belong to the function app")
    deployment = v2_input(tmp_path / "input", 'environment_variables: {"\\e[2JX": "1"}\n')
    code, _, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 2 and "has a name that is not a variable name: '\\x1b[2JX'" in err and "\x1b" not in err
    assert snapshot(app) == before


def test_a_named_pipe_in_the_apps_place_of_score_py_is_not_waited_on(tmp_path: Path) -> None:
    fifo(tmp_path / "score.py")
    assert models.is_sample_script(tmp_path / "score.py") is False


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    """`python -m adapter powerquery | head -1` (or import, check): the output is cut, quietly, as `cat` does; the
    M text is larger than the pipe's buffer, so the write meets the closed pipe while the command runs."""
    from targets import CONFIG_PREFIXES, ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    process = subprocess.Popen(
        [sys.executable, "-m", "adapter", "powerquery"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    process.stdout.close()  # before the child has written anything: it takes longer than this to start
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 1
    assert b"Traceback" not in errors and b"BrokenPipeError" not in errors, errors.decode()


# Values no process environment can hold


@pytest.mark.parametrize("value", ['"a\\0b"', '"x\\ud800y"'])
def test_a_setting_no_environment_can_hold_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    app = app_copy(tmp_path)
    deployment = v2_input(tmp_path / "input", f"environment_variables:\n  FOO: {value}\n")
    before = snapshot(tmp_path)
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app))
    assert code == 2 and out == "", out
    assert err.startswith(f"error: {deployment}: environment_variables: the setting 'FOO' "), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(tmp_path) == before


def test_a_local_settings_json_with_a_nul_stops_check_in_one_line(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    (app / "local.settings.json").write_text(json.dumps({"Values": {"FOO": "a\0b"}}))
    clean = {k: v for k, v in os.environ.items() if k != "FOO"}
    done = subprocess.run(
        [sys.executable, "-m", "adapter", "check", "--here", "--no-wheels"],
        cwd=app, env=clean, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        "error: local.settings.json: the setting 'FOO' has a NUL character in its value, which no process "
        "environment can hold; fix it or remove it.\n"
    )


#: Settings a deployment could use against check's own programs (installers, the probe's Python), with values.
MACHINE_SETTINGS = {
    "LD_PRELOAD": "/tmp/evil.so",
    "PYTHONWARNINGS": "error",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "UV_INDEX_URL": "http://127.0.0.1:9/simple",
    "https_proxy": "http://127.0.0.1:9",
    "SSL_CERT_FILE": "/tmp/evil-ca.pem",
    "REQUESTS_CA_BUNDLE": "/tmp/evil-ca.pem",
    "ADAPTER_CHECK_CACHE": "/tmp/chosen-by-the-deployment",
    "XDG_CACHE_HOME": "/tmp/chosen-by-the-deployment",
    "TMPDIR": "/tmp/chosen-by-the-deployment",
}


def test_check_never_takes_settings_that_act_on_this_machine_from_local_settings_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapter.tools.check import cli as check
    from adapter.tools.check import environment

    app = app_copy(tmp_path)
    values = {**MACHINE_SETTINGS, "MINE": "1", "UV_EXTRA_INDEX_URL": "http://127.0.0.1:9/extra"}
    (app / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    for name in values:
        monkeypatch.delenv(name, raising=False)  # put back as they were once the test ends
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", "https://mirror.example/simple")  # the user's own, from the shell
    seen: dict[str, object] = {}

    def build(requirements: Path, python: str, **options: object) -> environment.Built:
        seen["env"] = environment.clean_environment()  # what uv, pip and the probe's Python are started with
        seen["cache"] = environment.cache_root()
        raise environment.BuildFailed("stopped by the test")

    monkeypatch.setattr(environment, "build", build)
    out = io.StringIO()
    check.run(app, out, isolated=True, check_wheels=False)
    env = seen["env"]
    assert isinstance(env, dict) and env["MINE"] == "1"
    assert not set(MACHINE_SETTINGS) & set(env), set(MACHINE_SETTINGS) & set(env)
    assert env["UV_EXTRA_INDEX_URL"] == "https://mirror.example/simple"  # the shell's value still applies
    assert not str(seen["cache"]).startswith("/tmp/chosen-by-the-deployment")
    text = out.getvalue()
    assert "(not taken from local.settings.json: LD_PRELOAD, PYTHONWARNINGS: they change how programs start" in text, (
        text
    )
    assert (
        "(not taken from local.settings.json: PIP_INDEX_URL, REQUESTS_CA_BUNDLE, SSL_CERT_FILE, UV_INDEX_URL, "
        "https_proxy: they change where the installers fetch packages from" in text
    )
    assert "(not taken from local.settings.json: ADAPTER_CHECK_CACHE, TMPDIR, XDG_CACHE_HOME: they change where" in text
    assert "UV_EXTRA_INDEX_URL" not in text.split("\n\n")[0]  # set in the shell: nothing was left out
    assert "LD_PRELOAD=/tmp/evil.so" in text  # still a setting for Azure: in the app settings command


# Requirements named like archives: pip reads them as files to build


#: pip's archive extensions (pip._internal.utils.filetypes.ARCHIVE_EXTENSIONS).
ARCHIVE_EXTENSIONS = [".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar", ".tar.xz", ".txz", ".tlz"]
ARCHIVE_EXTENSIONS += [".tar.lz", ".tar.lzma"]
ARCHIVE_LINES = [f"evil{ext}" for ext in ARCHIVE_EXTENSIONS] + [
    "EVIL.TGZ",
    "evil.tgz[extra]",
    'evil.tgz; python_version > "3"',
]


@pytest.mark.parametrize("line", ARCHIVE_LINES)
def test_a_requirement_named_like_an_archive_is_never_written_nor_installed(tmp_path: Path, line: str) -> None:
    from adapter.tools.check import wheels

    assert requirement_lines.problem(line) is not None
    converted = conda_deps.from_conda({"dependencies": [{"pip": ["six", line]}]}, "conda.yml", tmp_path)
    assert [written.text for written in converted.lines] == ["six"]
    assert any(item.startswith(line) for item in converted.unmapped), converted.unmapped
    name = line.split(";")[0].split("[")[0]
    conda = conda_deps.from_conda({"dependencies": [name]}, "conda.yml", tmp_path)
    assert conda.lines == [] and conda.unmapped, conda
    requirements = write(tmp_path / "requirements.txt", f"six\n{line}\n")
    kept, left_out = wheels.installable(requirements, "3.11")
    assert kept == ["six"] and len(left_out) == 1 and left_out[0].startswith(name), left_out


def test_every_archive_extension_pip_knows_is_one_of_ours() -> None:
    filetypes = pytest.importorskip("pip._internal.utils.filetypes")
    assert set(filetypes.ARCHIVE_EXTENSIONS) <= set(ARCHIVE_EXTENSIONS)
    for extension in filetypes.ARCHIVE_EXTENSIONS:
        assert requirement_lines.problem(f"pkg{extension}") is not None


#: A stand-in for pip and uv: records the folder it was started in, then fails.
RECORD_CWD = "import os, sys; open(sys.argv[1], 'w').write(os.getcwd()); sys.exit(1)"


def test_the_installers_and_the_wheel_dry_run_never_run_in_the_app_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapter.tools.check import environment, wheels

    app = app_copy(tmp_path)
    monkeypatch.chdir(app)  # where `python -m adapter check` is started
    monkeypatch.setenv(environment.CACHE_VARIABLE, str(tmp_path / "cache"))
    record = tmp_path / "cwd.txt"
    wheels.resolve(app / "requirements.txt", "3.11", pip=(sys.executable, "-c", RECORD_CWD, str(record)))
    assert not Path(record.read_text()).is_relative_to(app), record.read_text()
    record.unlink()
    monkeypatch.setattr(environment, "uv_command", lambda: [sys.executable, "-c", RECORD_CWD, str(record)])
    with pytest.raises(environment.BuildFailed):
        environment.build(app / "requirements.txt", wheels.default_python(), use_uv=True)
    assert not Path(record.read_text()).is_relative_to(app), record.read_text()


def sdist(path: Path, marker: Path) -> Path:
    """An sdist whose setup.py leaves `marker` when anything builds it, named as `path` says (`evil.tgz`)."""
    import tarfile

    source = path.parent / "evil-1.0"
    write(source / "setup.py", f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    write(source / "PKG-INFO", "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    with tarfile.open(path, "w:gz") as archive:
        archive.add(source, arcname="evil-1.0")
    return path


def test_an_archive_of_the_code_named_as_a_requirement_is_never_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapter.tools.check import wheels

    app, markers = hostile_app(tmp_path)
    folder = tmp_path / "input"
    sdist(folder / "code" / "evil.tgz", markers / "setup-ran")
    write(folder / "conda.yml", json.dumps({"dependencies": ["python=3.11", {"pip": ["evil.tgz"]}]}))
    deployment = v2_input(folder, "environment:\n  conda_file: conda.yml\n")
    done = run_import(str(deployment), "--into", str(app), "--no-check")
    assert done.returncode == 0, done.stderr
    assert "evil.tgz (a local" in done.stdout
    assert "evil.tgz" not in (app / "requirements.txt").read_text()
    assert (app / "evil.tgz").is_file()  # code, copied as the deployment has it
    # requirements.txt naming it anyway (by hand): check never hands it to pip, which looks for it where it runs
    with (app / "requirements.txt").open("a") as requirements:
        requirements.write("evil.tgz\n")
    monkeypatch.chdir(app)
    resolution = wheels.resolve(app / "requirements.txt", "3.11")
    assert "evil.tgz" not in [line for line, _ in resolution.direct]
    nothing_ran(app, markers)


# Symlinks on the way to what a deployment names


def linked_out(case: str, folder: Path, outside: Path) -> tuple[Path, str]:
    """A deployment whose `case` path is (or goes through) a symlink out of its folder: (the file, the link)."""
    write(outside / "score.py", SCORE)
    write(outside / "model.bin", "weights\n")
    write(outside / "conda.yml", "dependencies:\n  - pip:\n    - six\n")
    write(folder / "code" / "score.py", SCORE)
    if case == "code folder":
        (folder / "linked").symlink_to(outside)
        return write(
            folder / "d.yml", V2_HEAD + "code_configuration:\n  code: linked\n  scoring_script: score.py\n"
        ), "linked"
    if case == "model folder":
        (folder / "model").symlink_to(outside)
        return write(folder / "d.yml", V2_HEAD + CODE + "model:\n  path: model\n"), "model"
    if case == "model file through a linked folder":
        (folder / "store").symlink_to(outside)
        return write(folder / "d.yml", V2_HEAD + CODE + "model:\n  path: store/model.bin\n"), "store"
    if case == "conda file":
        (folder / "conda.yml").symlink_to(outside / "conda.yml")
        return write(folder / "d.yml", V2_HEAD + CODE + "environment:\n  conda_file: conda.yml\n"), "conda.yml"
    if case == "v1 source directory":
        (folder / "src").symlink_to(outside)
        return write(folder / "ic.json", json.dumps({"entryScript": "score.py", "sourceDirectory": "src"})), "src"
    if case == "v1 entry script":
        (folder / "main.py").symlink_to(outside / "score.py")
        return write(folder / "ic.json", json.dumps({"entryScript": "main.py"})), "main.py"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["code folder", "model folder", "model file through a linked folder", "conda file", "v1 source directory"]
    + ["v1 entry script"],
)
def test_a_path_of_the_deployment_that_is_a_symlink_out_of_its_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    app = app_copy(tmp_path)
    folder = tmp_path / "input"
    outside = tmp_path / "home" / ".ssh"
    deployment, link = linked_out(case, folder, outside)
    before = snapshot(tmp_path)
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 2 and out == "", out
    assert err.startswith(f"error: {deployment}: "), err
    assert f" leads through the symlink {folder / link} to {outside}" in err and err.count("\n") == 1, err
    assert snapshot(tmp_path) == before


def test_paths_the_deployment_spells_out_and_links_inside_its_folder_are_imported_and_shown_resolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    project = tmp_path / "project"
    write(project / "src" / "score.py", SCORE)
    write(project / "deploy" / "models" / "m-v2" / "weights.json", "{}")
    (project / "deploy" / "model").symlink_to(project / "deploy" / "models" / "m-v2")
    deployment = write(
        project / "deploy" / "d.yml",
        V2_HEAD + "code_configuration:\n  code: ../src\n  scoring_script: score.py\nmodel:\n  name: m\n  path: model\n",
    )
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0, err
    assert f"Code: {project / 'src'} -> the app root" in out  # a plain ../ path: shown as it is
    assert f"Model: {project / 'deploy' / 'model'} (resolved: {project / 'deploy' / 'models' / 'm-v2'}) ->" in out
    assert (app / "models" / "m" / "1" / "model" / "weights.json").is_file()
    # A lone entry script linked inside the folder is copied as the file it leads to.
    write(tmp_path / "v1" / "real" / "entry.py", SCORE + "# v1\n")
    (tmp_path / "v1" / "score.py").symlink_to(tmp_path / "v1" / "real" / "entry.py")
    config = write(tmp_path / "v1" / "ic.json", json.dumps({"entryScript": "score.py"}))
    code, out, err = import_in_process(capsys, str(config), "--into", str(app), "--no-check", "--replace")
    assert code == 0, err
    assert f"Code: {tmp_path / 'v1' / 'score.py'} (resolved: {tmp_path / 'v1' / 'real' / 'entry.py'})" in out
    assert (app / "score.py").read_text() == SCORE + "# v1\n" and not (app / "score.py").is_symlink()


@pytest.mark.parametrize("case", ["code folder", "model folder"])
def test_a_dot_dot_after_a_link_is_checked_as_the_path_that_is_copied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    # The OS reads `x/../b` through the link (x -> p/q, so `..` is p, and p/b is a real folder), but the copy takes
    # the path as written with `x/..` removed: the folder's own `b`, a link out to the keys. The check must see that.
    app = app_copy(tmp_path)
    folder = tmp_path / "input"
    secret = write(tmp_path / "secret" / "id_rsa", "PRIVATE KEY\n").parent
    write(secret / "score.py", SCORE)
    write(folder / "p" / "b" / "score.py", SCORE)
    (folder / "p" / "q").mkdir()
    (folder / "x").symlink_to(folder / "p" / "q")
    (folder / "b").symlink_to(Path("..") / "secret")
    write(folder / "code" / "score.py", SCORE)
    if case == "code folder":
        text = V2_HEAD + "code_configuration:\n  code: x/../b\n  scoring_script: score.py\n"
    else:
        text = V2_HEAD + CODE + "model:\n  name: m\n  path: x/../b\n"
    deployment = write(folder / "d.yml", text)
    before = snapshot(tmp_path)
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 2 and out == "", out
    assert f" leads through the symlink {folder / 'b'} to {secret}" in err and err.count("\n") == 1, err
    assert snapshot(tmp_path) == before


def test_an_absolute_path_through_a_link_of_the_machine_is_imported_and_one_through_the_folder_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Links outside the deployment file's folder are the machine's (/tmp -> /private/tmp, a home on another disk):
    # a path spelled out through them is the user's, and the report shows where it leads.
    app = app_copy(tmp_path)
    write(tmp_path / "realdata" / "m" / "weights.json", "{}")
    (tmp_path / "machinelink").symlink_to(tmp_path / "realdata")
    folder = tmp_path / "input"
    write(folder / "code" / "score.py", SCORE)
    spelled = tmp_path / "machinelink" / "m"
    deployment = write(folder / "d.yml", V2_HEAD + CODE + f"model:\n  name: m\n  path: {spelled}\n")
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0, err
    assert f"Model: {spelled} (resolved: {tmp_path / 'realdata' / 'm'}) ->" in out
    assert (app / "models" / "m" / "1" / "m" / "weights.json").is_file()
    # The same path spelled out through a link that sits in the deployment's folder is still that link.
    write(tmp_path / "home" / ".ssh" / "id_rsa", "PRIVATE KEY\n")
    (folder / "keys").symlink_to(tmp_path / "home" / ".ssh")
    deployment = write(folder / "d.yml", V2_HEAD + CODE + f"model:\n  name: k\n  path: {folder / 'keys'}\n")
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check", "--replace")
    assert code == 2 and out == "", out
    assert f" leads through the symlink {folder / 'keys'} to {tmp_path / 'home' / '.ssh'}" in err, err


# Printed commands run nothing but themselves when pasted


def pasted(command: str, folder: Path) -> list[str]:
    """The arguments a shell hands `az` when the command is pasted (placeholders filled in, as the user would)."""
    filled = command.replace("<APP_NAME>", "app").replace("<RESOURCE_GROUP>", "rg").replace("<RG>", "rg")
    filled = filled.replace("<WS>", "ws").replace("<VERSION>", "1")
    program, _, arguments = filled.strip().partition(" ")
    assert program == "az", command
    done = subprocess.run(
        ["bash", "-c", f"printf '%s\\n' {arguments}"], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_app_settings_command_quotes_every_value_from_the_deployment(tmp_path: Path) -> None:
    from adapter.tools.check.package import settings_command

    marker = tmp_path / "pwned"
    values = {
        "GREETING": f"<b>$(touch {marker})</b>",
        "SEMI": f"x; touch {marker}",
        "TICKS": f"`touch {marker}`",
        "QUOTE": 'it\'s "quoted"',
        f"API_KEY$(touch {marker})": "hidden",  # a secret's placeholder beside a name that needs quoting
        "AML_APP_ROOT": "/elsewhere",
    }
    words = pasted(settings_command(tmp_path, values), tmp_path)
    assert not marker.exists()
    settings = words[words.index("--settings") + 1 :]
    assert set(settings) == {
        f"GREETING=<b>$(touch {marker})</b>",
        f"SEMI=x; touch {marker}",
        f"TICKS=`touch {marker}`",
        'QUOTE=it\'s "quoted"',
        f"API_KEY$(touch {marker})=<secret: set it yourself>",
        "AML_APP_ROOT=<a folder in the package>",
    }


@pytest.mark.parametrize(
    ("reference", "part"),
    [
        ("model: azureml:m$(touch${IFS}pwned):1", "'m$(touch${IFS}pwned)'"),
        ("model: azureml:m@l;touch${IFS}pwned", "'l;touch${IFS}pwned'"),
        ("model: azureml://registries/r`touch${IFS}pwned`/models/m/versions/1", "'r`touch${IFS}pwned`'"),
        ("model:\n  path: azureml:whatever\n  name: m;touch${IFS}pwned", "'m;touch${IFS}pwned'"),
        ("environment: azureml:env;touch${IFS}pwned;:3", "'env;touch${IFS}pwned;'"),
        ("environment: azureml:env:3$(touch${IFS}pwned)", "'3$(touch${IFS}pwned)'"),
    ],
)
def test_a_registered_name_that_would_run_a_command_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: str, part: str
) -> None:
    app = app_copy(tmp_path)
    deployment = v2_input(tmp_path / "input", reference + "\n")
    before = snapshot(tmp_path)
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 2 and out == "", out
    assert err.startswith(f"error: {deployment}: ") and part in err and err.count("\n") == 1, err
    assert snapshot(tmp_path) == before


def test_the_commands_that_fetch_registered_assets_paste_as_they_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    deployment = v2_input(
        tmp_path / "input",
        "model: azureml://registries/azureml/models/m.v2/versions/3\n"
        "environment: azureml://registries/azureml/environments/sklearn-1.5/versions/7\n",
    )
    code, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code == 0, err
    download = next(line for line in out.splitlines() if "az ml model download" in line)
    assert pasted(download, tmp_path) == [
        *("ml", "model", "download", "--name", "m.v2", "--version", "3", "--download-path", "./downloaded"),
        *("--registry-name", "azureml"),
    ]
    assert "`az ml environment show --name sklearn-1.5 --version 7 --registry-name azureml`" in out


def test_check_quotes_a_model_name_from_the_script_in_the_command_it_suggests(tmp_path: Path) -> None:
    from adapter.tools.check import cli as check

    hint = check._model_not_bundled(tmp_path, "m$(touch pwned)", 2)
    assert "`python -m adapter models add 'm$(touch pwned)' PATH --version 2`" in hint


def test_one_long_string_used_many_times_is_refused_as_an_alias_bomb(tmp_path: Path) -> None:
    app = app_copy(tmp_path)
    long = "x" * 100_000  # a few uses are fine; 50 expand to 5 MB, and 90,000 to 9 GB
    few = f"big: &a {long}\nuses: [*a, *a, *a]\n"
    assert documents.parse_yaml(few, "few.yml", "few.yml") == {"big": long, "uses": [long] * 3}
    bomb = f"name: env\nbig: &a {long}\ndependencies:\n" + "  - *a\n" * 50
    with pytest.raises(documents.DocumentError, match="its aliases expand to more than 4 MB of text"):
        documents.parse_yaml(bomb, "conda.yml", "conda.yml")
    conda = write(tmp_path / "input" / "conda.yml", bomb)
    deployment = v2_input(tmp_path / "input", "environment:\n  conda_file: conda.yml\n")
    before = snapshot(tmp_path)
    done = run_import(str(deployment), "--into", str(app), "--no-check")
    one_line_refusal(done, f"The conda file {conda} is refused: its aliases expand to more than 4 MB of text")
    assert snapshot(tmp_path) == before


# Compressed model files: bombs and broken streams


def test_a_zlib_bomb_among_the_models_is_read_no_further_than_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import collections
    import pickle
    import tracemalloc
    import zlib

    from adapter.tools.check import pickles

    monkeypatch.setattr(pickles, "MAX_BYTES", 1024 * 1024)
    # A real pickle, then 64 MB of zeros: a 64 KB file that decompresses without end.
    payload = pickle.dumps(collections.OrderedDict(a=1), protocol=4) + bytes(64 * 1024 * 1024)
    (tmp_path / "model.pkl.z").write_bytes(zlib.compress(payload))
    del payload
    tracemalloc.start()
    try:
        needed = pickles.scan(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert needed.modules == {"collections": ["model.pkl.z"]}
    assert peak < 16 * 1024 * 1024, peak  # the 1 MB bound and its copies, never the 64 MB


def test_truncated_or_corrupt_compressed_models_are_left_unread(tmp_path: Path) -> None:
    import bz2
    import collections
    import gzip
    import lzma
    import pickle

    from adapter.tools.check import pickles

    whole = pickle.dumps(collections.OrderedDict(x=list(range(10_000))), protocol=4)
    (tmp_path / "a.pkl.gz").write_bytes(gzip.compress(whole)[:200])
    (tmp_path / "b.pkl.bz2").write_bytes(bz2.compress(whole)[:200])
    (tmp_path / "c.pkl.xz").write_bytes(lzma.compress(whole)[:200])
    (tmp_path / "d.pkl.xz").write_bytes(b"\xfd7zXZ\x00" + b"\xff" * 100)
    (tmp_path / "e.pkl.z").write_bytes(b"\x78\x9c" + b"\xff" * 100)
    assert pickles.scan(tmp_path).modules == {}  # not read: what a broken stream names is not trusted
    (tmp_path / "f.pkl.gz").write_bytes(gzip.compress(whole))
    assert pickles.scan(tmp_path).modules == {"collections": ["f.pkl.gz"]}  # beside them, a whole one is read


# An entry script that would not be copied


@pytest.mark.parametrize(
    ("script", "ignore", "why"),
    [
        (".hidden/score.py", None, ".hidden is a dot-name, and dot-files and dot-folders are never imported"),
        ("score.py", (".amlignore", "score.py\n"), "the code folder's .amlignore leaves it out"),
        ("app/score.py", (".gitignore", "app/\n"), "the code folder's .gitignore leaves it out"),
        ("venv/score.py", None, "venv is never copied"),
    ],
)
def test_an_entry_script_the_import_would_not_copy_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], script: str, ignore: tuple[str, str] | None, why: str
) -> None:
    app = app_copy(tmp_path)
    code = tmp_path / "input" / "code"
    write(code / script, SCORE)
    write(code / "helpers.py", "X = 1\n")
    if ignore is not None:
        write(code / ignore[0], ignore[1])
    deployment = write(
        tmp_path / "input" / "d.yml", V2_HEAD + f"code_configuration:\n  code: code\n  scoring_script: {script}\n"
    )
    before = snapshot(tmp_path)
    code_, out, err = import_in_process(capsys, str(deployment), "--into", str(app), "--no-check")
    assert code_ == 2 and out == "", out
    assert err.startswith(f"error: The entry script {script} is not copied from {code}: {why}"), err
    assert err.count("\n") == 1
    assert snapshot(tmp_path) == before  # the sample's score.py is still there


def test_a_v1_entry_script_its_source_directory_leaves_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path)
    source = tmp_path / "input" / "src"
    write(source / "entry.py", SCORE)
    write(source / ".amlignore", "entry.py\n")
    config = write(tmp_path / "input" / "ic.json", json.dumps({"entryScript": "entry.py", "sourceDirectory": "src"}))
    before = snapshot(tmp_path)
    code, out, err = import_in_process(capsys, str(config), "--into", str(app), "--no-check")
    assert code == 2 and out == ""
    assert err.startswith(f"error: The entry script entry.py is not copied from {source}: the code folder's "), err
    assert snapshot(tmp_path) == before
