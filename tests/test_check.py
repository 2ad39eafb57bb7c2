"""`python -m adapter check`: passes on the bundled sample, fails with a readable reason (never a traceback) on a
script whose init() raises, a missing requirement and a missing model file; and the package rules it applies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from targets import CONFIG_PREFIXES, ROOT

from adapter.tools import check_imports, check_package
from adapter.tools.check_report import Status

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


def run_check(app: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    done = subprocess.run(
        [sys.executable, "-m", "adapter", "check"], cwd=app, env=env, capture_output=True, text=True, timeout=120
    )
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
    assert f"score.py line {line} imports pandas (pandas): requirements.txt does not install it." in step(
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
        "score.py line 11 imports sklearn.linear_model (scikit-learn): requirements.txt does not install it.",
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
