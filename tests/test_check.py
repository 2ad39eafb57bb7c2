"""`python -m adapter check`: passes on the bundled sample, fails with a readable reason (never a traceback) on a
script whose init() raises, a missing requirement and a missing model file; and the package rules it applies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from targets import CONFIG_PREFIXES, ROOT

from adapter.tools.check import imports as check_imports
from adapter.tools.check import package as check_package
from adapter.tools.check import wheels
from adapter.tools.check.report import Status

SAMPLE_FILES = ("function_app.py", "host.json", "requirements.txt", ".funcignore", "score.py")


def sample_app(tmp_path: Path) -> Path:
    """A copy of the bundled sample app, adapter included, to break one thing in."""
    app = tmp_path / "app"
    app.mkdir()
    for name in SAMPLE_FILES:
        shutil.copy(ROOT / name, app / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "adapter", app / "adapter", ignore=ignore)
    shutil.copytree(ROOT / "models", app / "models", ignore=ignore)
    return app


def run_check(app: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m adapter check --here` in `app` (the script runs in this Python: these tests watch what it does
    here; tests/test_import_check.py checks in the environment built from requirements.txt); without the wheel step
    (it asks PyPI) unless `args` say otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    env.update(env_extra)
    command = [sys.executable, "-m", "adapter", "check", "--here", *(args or ("--no-wheels",))]
    done = subprocess.run(command, cwd=app, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def step(output: str, title: str) -> str:
    """The step's line and the detail lines under it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f"] {title} ." in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[") or not lines[i]), len(lines))
    return "\n".join(lines[start:end])


def test_passes_on_the_bundled_sample() -> None:
    done = run_check(ROOT)
    assert done.returncode == 0, done.stdout
    for title in ("entry script imports", "init()", "swagger documents", "Power BI shape", ".funcignore"):
        assert " ok " in step(done.stdout, title), done.stdout
    assert "200 in " in step(done.stdout, "run() answers the example")
    assert '{"Results": ["setosa", "virginica"]}' in step(done.stdout, "run() answers the example")
    assert "iris-classifier 1" in step(done.stdout, "models bundle")
    assert "0 failed" in done.stdout and "Ready to publish" in done.stdout


def test_fails_when_init_raises(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "score.py").write_text(
        "def init():\n    print('loading the model')\n    raise ValueError('the model is corrupt')\n\n\n"
        "def run(data):\n    return data\n"
    )
    done = run_check(app)
    assert done.returncode == 1
    init = step(done.stdout, "init()")
    assert "FAILED  raised ValueError: the model is corrupt" in init
    assert "at score.py, line 3, in init" in init
    assert "loading the model" in init  # its output, kept off the progress display until it matters
    assert "skipped init() did not succeed" in step(done.stdout, "run() answers the example")
    assert "Not ready to publish" in done.stdout


def test_fails_on_a_missing_requirement(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    requirements = app / "requirements.txt"
    requirements.write_text("".join(line for line in requirements.read_text().splitlines(True) if "pandas" not in line))
    done = run_check(app)
    assert done.returncode == 1
    line = next(n for n, text in enumerate((app / "score.py").read_text().splitlines(), 1) if "import pandas" in text)
    assert f"score.py line {line} imports pandas (pandas): requirements.txt does not install it; add pandas." in step(
        done.stdout, "requirements.txt"
    )
    assert " ok " in step(done.stdout, "init()")  # installed here, so only the requirements step can tell


def test_fails_on_a_missing_model_file(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    version = app / "models" / "iris-classifier" / "1"
    (version / "iris_model.npz").rename(version / "iris_model_old.npz")
    done = run_check(app)
    assert done.returncode == 1
    init = step(done.stdout, "init()")
    assert "FAILED  raised FileNotFoundError:" in init and "iris_model.npz" in init
    assert f"AZUREML_MODEL_DIR is {version}, holding iris_model_old.npz" in init


def test_fails_on_a_bundle_linking_out_and_a_funcignore_dropping_models(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "models" / "stolen").symlink_to(tmp_path)
    with (app / ".funcignore").open("a") as funcignore:
        funcignore.write("models/\n")
    done = run_check(app)
    assert done.returncode == 1
    assert "models/stolen: a symlink leading outside models/; it is refused." in step(done.stdout, "models bundle")
    assert "excludes models/iris-classifier/1/iris_model.npz, which the app needs" in step(done.stdout, ".funcignore")


def test_funcignore_follows_gitignore_rules() -> None:
    rules = check_package.FuncIgnore("# comment\n\n*.log\n!keep.log\n/top.txt\nbuild/\ndocs/**/*.md\n\\#hash\n")
    assert rules.excludes("a.log") and rules.excludes("deep/er/a.log")
    assert not rules.excludes("keep.log")
    assert rules.excludes("top.txt") and not rules.excludes("sub/top.txt")
    assert rules.excludes("build/x.py") and rules.excludes("src/build/x.py") and not rules.excludes("build")
    assert rules.excludes("docs/a.md") and rules.excludes("docs/a/b/c.md") and not rules.excludes("docs/a.txt")
    assert rules.excludes("#hash")


def test_funcignore_problems_are_named(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("")
    assert check_package.funcignore(tmp_path, tmp_path / "score.py", tmp_path).status is Status.FAIL
    (tmp_path / ".funcignore").write_text("tests/\nfunction_app.py\n/score.py\n")
    outcome = check_package.funcignore(tmp_path, tmp_path / "score.py", tmp_path)
    assert outcome.status is Status.FAIL
    assert "does not exclude benchmarks (bench/run.py)" in outcome.details
    assert "excludes function_app.py, which the app needs" in outcome.details
    assert "excludes score.py, which the app needs" in outcome.details


def test_requirements_are_read_like_pip(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Scikit_Learn>=1.4  # the model\n")
    (tmp_path / "requirements.txt").write_text(
        "-r base.txt\n--extra-index-url https://example.org/simple\n# a comment\n"
        "azure-functions\nrequests[socks]==2.*; python_version>'3'\n-e ./local_pkg\n"
        "mylib @ https://example.org/mylib-1.0.tar.gz\n"
    )
    assert check_imports.requirements(tmp_path / "requirements.txt") == {
        "scikit-learn": set(),
        "azure-functions": set(),
        "requests": {"socks"},
        "mylib": set(),
    }


def test_optional_and_local_imports_need_no_requirement(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("")
    script = tmp_path / "score.py"
    script.write_text(
        "import os, json\nimport helper\nfrom . import sibling\n"
        "from azureml.core.model import Model\nfrom azureml.contrib.services.aml_request import rawhttp\n"
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
        "def init():\n    import sklearn.linear_model\n"
    )
    (tmp_path / "requirements.txt").write_text("azure-functions\ninference-schema\nwerkzeug\n")
    outcome = check_imports.check(tmp_path, script, [tmp_path])
    assert outcome.status is Status.FAIL
    assert outcome.details == (
        "score.py line 11 imports sklearn.linear_model (scikit-learn): requirements.txt does not install it; "
        "add scikit-learn.",
    )


def test_azureml_core_imports_point_at_the_provided_path(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("from azureml.core import Workspace\n")
    (tmp_path / "requirements.txt").write_text("")
    outcome = check_imports.check(tmp_path, script, [tmp_path])
    assert outcome.details[0].endswith("not installed; `from azureml.core.model import Model` needs nothing.")


@pytest.mark.parametrize(("version", "status"), [((3, 11), Status.OK), ((3, 9), Status.WARN), ((3, 14), Status.WARN)])
def test_python_version_against_azure_functions(version: tuple[int, int], status: Status) -> None:
    assert check_package.python_version(version).status is status


def test_package_size_lists_the_largest_files_and_flags_hidden_folders(tmp_path: Path) -> None:
    (tmp_path / ".funcignore").write_text("tests/\n")
    (tmp_path / "models" / "m" / "1").mkdir(parents=True)
    (tmp_path / "models" / "m" / "1" / "model.bin").write_bytes(b"\0" * 4096)
    (tmp_path / "score.py").write_text("x = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "huge.bin").write_bytes(b"\0" * 100_000)
    outcome = check_package.package(tmp_path)
    assert outcome.status is Status.OK
    assert outcome.summary == "4.0 KB in 3 files"  # .funcignore, the model, score.py; not tests/
    assert outcome.details[:2] == ("largest:", "   4.0 KB  models/m/1/model.bin")
    (tmp_path / ".hypothesis").mkdir()
    (tmp_path / ".hypothesis" / "db").write_text("")
    assert check_package.package(tmp_path).summary.endswith("with .hypothesis/: add to .funcignore?")


# Traps a read of the source cannot see: what the script's code does while it runs (issue 13, point 3).


def replace_models(app: Path, name: str, files: dict[str, bytes]) -> Path:
    """The app's bundle holding only models/NAME/1/ with `files`."""
    shutil.rmtree(app / "models")
    version = app / "models" / name / "1"
    version.mkdir(parents=True)
    for file, content in files.items():
        (version / file).write_bytes(content)
    return version


UNPICKLING_SCRIPT = """\
import os
import pickle


def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)


def run(data):
    return data
"""


@pytest.fixture(scope="module")
def pickled_model_check(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A script whose init() unpickles a scikit-learn model saved "with 0.24.2", and a requirements.txt without
    scikit-learn: the script never imports sklearn, pickle does."""
    sklearn = pytest.importorskip("sklearn")
    import pickle

    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    saved = pickle.dumps(model, protocol=0)  # text protocol: the version string can be swapped in place
    saved = saved.replace(f"V{sklearn.__version__}\n".encode(), b"V0.24.2\n")
    app = sample_app(tmp_path_factory.mktemp("pickled"))
    replace_models(app, "clf", {"model.pkl": saved})
    (app / "score.py").write_text(UNPICKLING_SCRIPT)
    done = run_check(app)
    assert done.returncode == 1, done.stdout
    return done.stdout


def test_a_library_a_pickled_model_loads_must_be_in_requirements(pickled_model_check: str) -> None:
    from importlib.metadata import version

    requirements = step(pickled_model_check, "requirements.txt")
    assert requirements.splitlines()[1:] == [
        f"        init() loaded sklearn (scikit-learn) (a pickled model loads the library that pickled it): add "
        f"scikit-learn=={version('scikit-learn')} to requirements.txt, which is all Azure installs."
    ]
    # Not listed: scipy, joblib and threadpoolctl, which scikit-learn brings along, nor psutil (in the development
    # environment), which joblib imports if it is there and does without.
    assert "FAILED  1 import(s) not installed by requirements.txt" in requirements


def test_a_model_pickled_with_another_version_is_a_warning_naming_both(pickled_model_check: str) -> None:
    from importlib.metadata import version

    init = step(pickled_model_check, "init()")
    assert init.split("\n")[0].split("... ")[-1].startswith("warning ")
    assert (
        f"the model (LogisticRegression) was pickled with scikit-learn 0.24.2, you install {version('scikit-learn')}"
        in init
    )
    # 0.24.2 has no wheel for any Python Azure Functions supports: a pin would be advice no one can follow.
    assert "needs retraining or re-saving with a current library" in init
    assert "pin scikit-learn==0.24.2" not in init


def test_an_ml_library_without_a_pinned_version_is_a_warning(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("import sklearn\n")
    (tmp_path / "requirements.txt").write_text("scikit-learn>=1.4\nnumpy>=1.26\nxgboost==2.1.0\n")
    outcome = check_imports.check(tmp_path, script, [tmp_path])
    assert outcome.status is Status.WARN
    assert len(outcome.details) == 1  # numpy is no ML library; xgboost is pinned
    assert outcome.details[0].startswith(
        "scikit-learn is not pinned (>=1.4): a model saved with one version may not load with another; pin the "
        "version it was trained with, e.g. scikit-learn=="
    )


WRITING_SCRIPT = """\
import os
import subprocess

from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

with open("import-cache.json", "w") as f:  # the working directory is the app folder, as on AML
    f.write("{}")


def init():
    subprocess.run(["touch", os.path.join(os.environ["AZUREML_MODEL_DIR"], "unzipped.bin")], check=True)


@input_schema("data", StandardPythonParameterType([1.0, 2.0]))
@output_schema(StandardPythonParameterType({"Results": [1.0]}))
def run(data):
    try:
        with open("last-request.json", "w") as f:
            f.write(str(data))
        raise RuntimeError("model not ready")
    except Exception as ex:
        return f"error: {ex}"
"""


@pytest.fixture(scope="module")
def misbehaving_check(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An entry script named in local.settings.json only, that writes into the app folder in import, init() and
    run(), and answers its own error as a string with a 200."""
    app = sample_app(tmp_path_factory.mktemp("misbehaving"))
    (app / "my_score.py").write_text(WRITING_SCRIPT)
    (app / "local.settings.json").write_text(
        '{"IsEncrypted": false, "Values": {"FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsStorage": "",'
        ' "AZUREML_ENTRY_SCRIPT": "my_score.py", "SCORING_TIMEOUT_MS": "60000", "SCORING_CONCURRENCY": "1",'
        ' "AML_SCORING_KEYS": "s3cret-key-value", "MY_FEATURE_FLAG": "on"}}'
    )
    done = run_check(app)
    assert done.returncode == 1, done.stdout
    assert "s3cret-key-value" not in done.stdout + done.stderr  # keys are never printed
    return done.stdout


def test_settings_only_in_local_settings_are_named_with_the_command_that_sets_them(misbehaving_check: str) -> None:
    settings = step(misbehaving_check, "app settings")
    assert " warning 4 setting(s) only in local.settings.json or the shell: Azure will not have them" in settings
    lines = settings.splitlines()
    assert lines[1].strip() == (
        "AZUREML_ENTRY_SCRIPT (from local.settings.json): without it the Function App serves score.py, which is "
        "here, not my_score.py"
    )
    assert lines[-1].strip() == (
        "az functionapp config appsettings set --name <APP_NAME> --resource-group <RESOURCE_GROUP> --settings "
        'AZUREML_ENTRY_SCRIPT=my_score.py AML_SCORING_KEYS="<secret: set it yourself>" MY_FEATURE_FLAG=on '
        "SCORING_TIMEOUT_MS=60000"
    )
    # Set by `az functionapp create` (or the default): not repeated.
    assert "FUNCTIONS_WORKER_RUNTIME" not in settings and "SCORING_CONCURRENCY" not in settings


def test_files_written_into_the_app_folder_fail_with_the_temp_dir_fix(misbehaving_check: str) -> None:
    writes = step(misbehaving_check, "app folder stays unchanged")
    assert "FAILED  the script wrote 3 file(s) in the app folder, which is read-only on Azure" in writes
    assert "the import wrote import-cache.json" in writes
    assert "init() wrote models/iris-classifier/1/unzipped.bin" in writes  # by a subprocess: seen in the listing
    assert "run() wrote last-request.json" in writes
    assert "write to a temp dir instead, e.g. os.path.join(tempfile.gettempdir(), NAME)." in writes


def test_an_error_string_answered_with_200_contradicts_the_output_schema(misbehaving_check: str) -> None:
    answer = step(misbehaving_check, "run() answers the example")
    assert "FAILED  200 in " in answer and '"error: model not ready"' in answer
    assert (
        "the answer is a string (\"error: model not ready\") where @output_schema declares an object with 'Results'"
        in answer
    )
    assert "let the exception propagate (the client gets a 500)" in answer


POWERBI_LIST_SCRIPT = """\
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("Inputs", StandardPythonParameterType({"data": [[1.0, 2.0]]}))
@input_schema("GlobalParameters", StandardPythonParameterType(1.0))
@output_schema(StandardPythonParameterType({"Results": [1.0]}))
def run(Inputs, GlobalParameters):
    return [sum(row) * GlobalParameters for row in Inputs["data"]]
"""


def test_a_list_where_results_is_declared_fails_and_a_number_global_parameter_is_fine(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "score.py").write_text(POWERBI_LIST_SCRIPT)
    done = run_check(app)
    assert done.returncode == 1
    answer = step(done.stdout, "run() answers the example")
    assert "FAILED  200 in " in answer and ": [3.0]; that is not the shape @output_schema declares" in answer
    assert "the answer is an array where @output_schema declares an object with 'Results'" in answer
    # GlobalParameters may be of any type: AML's Power BI example declares a number.
    assert " ok      Power BI can call it" in step(done.stdout, "Power BI shape")


def test_a_syntax_error_skips_the_requirements_step(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "score.py").write_text("def init():\n    pass\n\ndef run(data)\n    return data\n")
    done = run_check(app, "--no-wheels", AZUREML_MODEL_DIR=".")
    assert done.returncode == 1
    assert "FAILED  importing it raised SyntaxError" in step(done.stdout, "entry script imports")
    assert "at score.py, line 4: def run(data)" in step(done.stdout, "entry script imports")
    assert "skipped score.py has a syntax error (line 4), so its imports cannot be read" in step(
        done.stdout, "requirements.txt"
    )
    assert "the check itself failed" not in done.stdout


def test_no_message_ends_in_two_periods(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "score.py").write_text(
        "def init():\n    raise ValueError('the model is corrupt.')\n\ndef run(d):\n    pass\n"
    )
    done = run_check(app, "--no-wheels", AZUREML_MODEL_DIR=".")  # a path ending in a period, before ours
    assert "AZUREML_MODEL_DIR is set to" in done.stdout
    doubled = [line for line in done.stdout.splitlines() if re.search(r"(?<!\.)\.\.(\s|$)", line)]
    assert doubled == []


def test_an_old_pickle_says_retrain_or_pin_not_install(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    app = sample_app(tmp_path)
    # What scikit-learn 0.22 pickled: a class in a module that 0.24 renamed (sklearn.linear_model.base -> _base).
    replace_models(app, "clf", {"model.pkl": b"csklearn.linear_model.base\nLinearRegression\np0\n."})
    (app / "score.py").write_text(UNPICKLING_SCRIPT)
    done = run_check(app)
    init = step(done.stdout, "init()")
    assert "FAILED  raised ModuleNotFoundError: No module named 'sklearn.linear_model.base'" in init
    assert "Retrain the model or pin the scikit-learn version it was pickled with in requirements.txt." in init
    assert "Install what provides" not in init


def test_a_model_version_not_bundled_names_it_and_the_bundled_ones(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "score.py").write_text(
        "from azureml.core.model import Model\n\n\ndef init():\n"
        "    Model.get_model_path('iris-classifier', version=2)\n\n\ndef run(data):\n    return data\n"
    )
    done = run_check(app)
    init = step(done.stdout, "init()")
    assert "FAILED  raised WebserviceException: Model iris-classifier not found in cache" in init
    assert "at score.py, line 5, in init" in init  # the script's call, not the adapter's frame that raised
    assert (
        "Model.get_model_path('iris-classifier', version=2) asks for version 2 of 'iris-classifier'; the bundle has "
        "version(s) 1. Bundle it with `python -m adapter models add iris-classifier PATH --version 2`, or ask for a "
        "bundled one (`python -m adapter models list`)." in init
    )


def test_python_must_look_like_a_version() -> None:
    done = run_check(ROOT, "--python", "three")
    assert done.returncode == 2
    assert "argument --python: wants a Python version like 3.13, not 'three'" in done.stderr


def test_the_wheel_step_warns_offline(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests>=2.31\n")
    offline = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_FIND_LINKS": ""}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in offline.items():
            patch.setenv(name, value)
        patch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
        outcome = wheels.check(tmp_path / "requirements.txt", "3.13")
    assert outcome.status is Status.WARN, outcome
    assert (
        outcome.summary == "could not reach the package index, so wheels for Python 3.13 on Linux x86_64 are unchecked"
    )


def test_markers_are_evaluated_for_the_function_apps_python(tmp_path: Path) -> None:
    """pip evaluates markers for the Python running it, not for --python-version: `wheels` does it for the target."""
    (tmp_path / "base.txt").write_text('legacy==1.0; python_version < "3.12"\n')
    (tmp_path / "requirements.txt").write_text(
        "-r base.txt\n-c constraints.txt\n--extra-index-url https://example.org/simple\n"
        'azure-functions>=1.20,<2; python_version < "3.13"\nazure-functions>=2.0,<3; python_version >= "3.13"\n'
        "numpy>=1.26  # a comment\n"
    )
    assert wheels.target_lines(tmp_path / "requirements.txt", "3.11") == [
        "legacy==1.0",
        f"-c {tmp_path / 'constraints.txt'}",
        "--extra-index-url https://example.org/simple",
        "azure-functions>=1.20,<2",
        "numpy>=1.26",
    ]
    assert wheels.target_lines(tmp_path / "requirements.txt", "3.13")[2:] == ["azure-functions>=2.0,<3", "numpy>=1.26"]


def test_app_settings_map_app_folders_to_azure_and_skip_defaults(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    env = {
        "AZUREML_MODEL_DIR": str(tmp_path / "models"),
        "AML_APP_ROOT": "/somewhere/else",
        "AZUREML_ENTRY_SCRIPT": "score.py",  # the default: nothing to set
        "SERVICE_NAME": "iris",
        "PATH": "/usr/bin",
    }
    outcome = check_package.app_settings(tmp_path, ["SERVICE_NAME"], env)
    assert outcome.status is Status.WARN
    assert outcome.details[:3] == (
        "AML_APP_ROOT (from the shell): /somewhere/else is outside the app folder, so it is not published",
        "AZUREML_MODEL_DIR (from the shell)",
        "SERVICE_NAME (from local.settings.json)",
    )
    assert outcome.details[-1].endswith(
        '--settings AML_APP_ROOT="<a folder in the package>" AZUREML_MODEL_DIR=/home/site/wwwroot/models '
        "SERVICE_NAME=iris"
    )
    assert check_package.app_settings(tmp_path, [], {"PATH": "/usr/bin"}).status is Status.OK


def test_the_answer_shape_is_compared_as_a_client_reads_it() -> None:
    from adapter.openapi.answer_shape import contradictions

    declared = {
        "type": "object",
        "required": ["Results"],
        "properties": {"Results": {"type": "array", "items": {"type": "integer"}}},
    }
    # Integers and floats pass for each other, null passes (a missing score), extra properties are allowed.
    assert contradictions(declared, {"Results": [1, 2.5, None], "model": "v2"}) == []
    assert contradictions(declared, {"Results": [1, "two"]}) == [
        'Results[1] is a string ("two") where @output_schema declares a number'
    ]
    assert contradictions(declared, {"results": [1]}) == [
        "the answer has no 'Results' (it has 'results'), which @output_schema declares"
    ]
    # Without @output_schema inference-schema reports a bare object: nothing is declared, anything goes.
    assert contradictions({"type": "object"}, "any string") == []


def test_warns_when_the_sample_model_is_still_shipped_beside_the_users(tmp_path: Path) -> None:
    app = sample_app(tmp_path)
    (app / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    done = run_check(app)
    models_step = step(done.stdout, "models bundle")
    assert "warning" in models_step and "models/iris-classifier, the sample's model, is still bundled" in models_step


def test_a_script_step_that_never_ends_is_stopped_at_its_deadline_and_named(tmp_path: Path) -> None:
    """An init() that waits forever (a service it cannot reach) ends the check with the step named, instead of
    hanging it: the probe is the check's process in the environment built from requirements.txt (here, this one)."""
    import time

    from adapter.tools.check import cli as check
    from adapter.tools.check import probe as check_probe
    from adapter.tools.check.report import Status

    app = sample_app(tmp_path)
    script = "import time\n\ndef init():\n    time.sleep(3600)\n\ndef run(data):\n    return data\n"
    (app / "score.py").write_text(script)
    started = time.monotonic()
    probe = check_probe.Probe(Path(sys.executable), app, ["--python", wheels.default_python()], step_timeout=3)
    try:
        outcomes = {title: probe.next(title) for title, _ in check.SCRIPT_STEPS}
    finally:
        probe.close()
    titles = list(outcomes)
    imported, stopped = outcomes["entry script imports"], outcomes["init()"]
    after = [outcomes[title] for title in titles[titles.index("init()") + 1 :]]
    assert imported.status is Status.OK, imported
    assert stopped.status is Status.FAIL and stopped.summary == "init() did not finish in 3 s: the check stopped it"
    assert any("--step-timeout SECONDS" in line for line in stopped.details)
    assert after and all(outcome.status is Status.SKIP for outcome in after)
    assert probe.process.returncode is not None  # the child was stopped, not left sleeping
    assert time.monotonic() - started < 60


def test_the_step_timeout_must_be_a_positive_number(tmp_path: Path) -> None:
    done = run_check(ROOT, "--step-timeout", "0")
    assert done.returncode == 2 and "wants a number of seconds above 0, not '0'" in done.stderr


@pytest.mark.parametrize("init_returns", [True, False], ids=["fine", "stopped-at-its-deadline"])
def test_a_process_the_script_started_never_keeps_the_check_waiting(tmp_path: Path, init_returns: bool) -> None:
    """init() forks a worker that outlives it (as a multiprocessing pool does) and inherits the pipe the steps come
    back on: the check still ends, stopping the worker with the child, whether init() returned or was stopped."""
    import threading

    from adapter.tools.check import cli as check
    from adapter.tools.check import probe as check_probe
    from adapter.tools.check.report import Status

    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    app = sample_app(tmp_path)
    marker = tmp_path / "worker.pid"
    after_fork = "" if init_returns else "    time.sleep(3600)\n"
    (app / "score.py").write_text(
        "import os, time\n\ndef init():\n    if os.fork() == 0:\n"
        f"        open({str(marker)!r}, 'w').write(str(os.getpid()))\n        time.sleep(3600)\n        os._exit(0)\n"
        f"{after_fork}\ndef run(data):\n    return data\n"
    )
    deadline = 60 if init_returns else 5
    probe = check_probe.Probe(Path(sys.executable), app, ["--python", wheels.default_python()], step_timeout=deadline)
    outcomes = {title: probe.next(title) for title, _ in check.SCRIPT_STEPS}
    closing = threading.Thread(target=probe.close, daemon=True)
    closing.start()
    closing.join(timeout=120)
    assert not closing.is_alive(), "close() still waits on the pipe the script's worker holds"
    expected = Status.OK if init_returns else Status.FAIL
    assert outcomes["init()"].status is expected, outcomes["init()"]
    worker = int(marker.read_text())
    state = Path(f"/proc/{worker}/status")
    assert not state.exists() or "State:\tZ" in state.read_text()  # stopped (a zombie until init reaps it)
