"""`Model.get_model_path` from `azureml.core.model`, with or without azureml-core installed: azureml-core 1.61's
local rules and messages against the bundle, then `AML_APP_ROOT/azureml-models`, then `./NAME`; never outside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import fresh_python

from adapter.azureml.core_model import Model, ModelNotFoundException, WebserviceException


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An app root holding the bundle, as the working directory (where the entry script runs)."""
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)


def test_without_a_version_the_highest_integer_version(app: Path) -> None:
    for version in ("1", "2", "10"):
        put(app / "models" / "clf" / version, f"model-{version}.pkl")
    (app / "models" / "clf" / "notes").mkdir()
    (app / "models" / "clf" / ".DS_Store").write_text("")
    assert Model.get_model_path("clf") == str(app / "models" / "clf" / "10" / "model-10.pkl")


def test_with_a_version_that_version_and_a_folder_is_returned_as_is(app: Path) -> None:
    put(app / "models" / "clf" / "1", "model.pkl")
    put(app / "models" / "clf" / "2" / "saved_model", "saved_model.pb")
    assert Model.get_model_path("clf", version=1) == str(app / "models" / "clf" / "1" / "model.pkl")
    assert Model.get_model_path("clf", 2) == str(app / "models" / "clf" / "2" / "saved_model")


def test_version_must_be_an_int(app: Path) -> None:
    put(app / "models" / "clf" / "1", "model.pkl")
    for version in ("1", 1.0, "../1"):
        with pytest.raises(WebserviceException) as raised:
            Model.get_model_path("clf", version=version)  # type: ignore[arg-type]
        assert raised.value.message == "version should be an int"


def test_missing_model_messages_are_azureml_cores(app: Path) -> None:
    expected = (
        f"Model nope not found in cache at {app / 'models'} or {app / 'azureml-models'} or in current working "
        f"directory {app}. For more info, set logging level to DEBUG."
    )
    with pytest.raises(ModelNotFoundException) as latest:
        Model.get_model_path("nope")
    with pytest.raises(WebserviceException) as pinned:  # a pinned version: azureml-core re-raises it this way
        Model.get_model_path("nope", version=3)
    assert latest.value.message == pinned.value.message == str(latest.value) == expected


def test_a_missing_version_or_an_empty_model_folder(app: Path) -> None:
    put(app / "models" / "clf" / "1", "model.pkl")
    with pytest.raises(WebserviceException, match="Model clf not found in cache"):
        Model.get_model_path("clf", version=2)
    (app / "models" / "empty").mkdir()
    with pytest.raises(WebserviceException, match="^versions is empty$"):
        Model.get_model_path("empty")


def test_a_version_folder_must_hold_exactly_one_entry(app: Path) -> None:
    put(app / "models" / "two" / "1", "a.pkl", "b.pkl")
    (app / "models" / "none" / "1").mkdir(parents=True)
    with pytest.raises(WebserviceException) as two:
        Model.get_model_path("two")
    assert two.value.message == (
        f"Dir {app / 'models' / 'two' / '1'} can contain only 1 file or folder. Found ['a.pkl', 'b.pkl']"
    )
    with pytest.raises(WebserviceException, match=r"can contain only 1 file or folder. Found \[\]"):
        Model.get_model_path("none", version=1)


def test_then_azureml_models_then_the_working_directory(app: Path) -> None:
    put(app / "models" / "both" / "1", "bundled.pkl")
    put(app / "azureml-models" / "both" / "1", "cached.pkl")
    put(app / "azureml-models" / "cached" / "4", "cached.pkl")
    put(app / "models" / "pinned" / "1", "one.pkl")
    put(app / "azureml-models" / "pinned" / "2", "two.pkl")
    (app / "local.pkl").write_text("here")
    assert Model.get_model_path("both") == str(app / "models" / "both" / "1" / "bundled.pkl")
    assert Model.get_model_path("cached") == str(app / "azureml-models" / "cached" / "4" / "cached.pkl")
    assert Model.get_model_path("pinned", version=2) == str(app / "azureml-models" / "pinned" / "2" / "two.pkl")
    assert Model.get_model_path("local.pkl") == "local.pkl"


@pytest.mark.parametrize("name", ["../secret", "..", "/etc/passwd", "sub/model", "models/../../x", ""])
def test_names_cannot_leave_the_bundle(app: Path, name: str) -> None:
    put(app, "secret")
    put(app / "sub", "model")
    with pytest.raises(WebserviceException, match="is not valid: like AML's"):
        Model.get_model_path(name)


@pytest.mark.parametrize("link", ["model", "version", "entry"])
def test_symlinks_out_of_the_bundle_are_refused(app: Path, tmp_path_factory: pytest.TempPathFactory, link: str) -> None:
    outside = tmp_path_factory.mktemp("outside")
    put(outside / "7", "stolen.pkl")
    model = app / "models" / "m"
    if link == "model":
        model.parent.mkdir()
        model.symlink_to(outside)
    elif link == "version":
        model.mkdir(parents=True)
        (model / "7").symlink_to(outside / "7")
    else:
        (model / "7").mkdir(parents=True)
        (model / "7" / "stolen.pkl").symlink_to(outside / "7" / "stolen.pkl")
    with pytest.raises(WebserviceException, match="leads outside .*; models must stay inside it"):
        Model.get_model_path("m", version=7)


def test_the_working_directory_fallback_does_not_follow_a_symlink_out_of_the_app(
    app: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`./NAME` is azureml-core's last resort; a link there must not hand the script a file from elsewhere."""
    outside = tmp_path_factory.mktemp("outside")
    put(outside, "secret.pkl")
    (app / "stolen.pkl").symlink_to(outside / "secret.pkl")
    (app / "stolen_dir").symlink_to(outside)
    for name in ("stolen.pkl", "stolen_dir"):
        with pytest.raises(WebserviceException, match=f"{name} leads outside {app}; models must stay inside it"):
            Model.get_model_path(name)
    put(app / "real", "model.pkl")
    (app / "linked").symlink_to(app / "real")  # a link that stays inside is fine
    assert Model.get_model_path("linked") == "linked"


CHECK = """
import json, os, sys
from adapter.azureml import shim as azureml_shim
azureml_shim.install()
from azureml.core.model import Model
result = {"path": Model.get_model_path("clf")}
try:
    Model.get_model_path("missing")
except Exception as ex:
    result["error"] = [type(ex).__module__, type(ex).__name__, ex.message]
try:
    from azureml.core.model import InferenceConfig
    import azureml.core, azureml.core.webservice
    result["installed"] = [azureml.core.Model is Model, azureml.core.webservice.InferenceConfig is InferenceConfig]
    result["remote"] = Model.get_model_path("clf", None, "a workspace")
except ImportError as ex:
    result["installed"] = str(ex)
print(json.dumps(result))
"""

FAKE_CORE = {
    "azureml/__init__.py": "",
    "azureml/core/__init__.py": "from .model import Model\n",
    "azureml/core/model.py": (
        "class InferenceConfig:\n    pass\n\n\nclass Model:\n    @staticmethod\n"
        "    def get_model_path(model_name, version=None, _workspace=None):\n"
        "        return 'registry:' + model_name if _workspace else 'the installed lookup must not be used'\n"
    ),
    "azureml/core/webservice.py": "from azureml.core.model import InferenceConfig, Model\n",
    "azureml/exceptions/__init__.py": (
        "class WebserviceException(Exception):\n    def __init__(self, message):\n"
        "        super().__init__(message)\n        self.message = message\n\n\n"
        "class ModelNotFoundException(WebserviceException):\n    pass\n"
    ),
}


def run_check(app: Path, installed: Path | None) -> dict[str, object]:
    out = fresh_python(CHECK, cwd=app, path=[installed] if installed else [], env={"AML_APP_ROOT": str(app)})
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_import_path_works_without_azureml_core(tmp_path: Path) -> None:
    put(tmp_path / "models" / "clf" / "3", "model.pkl")
    result = run_check(tmp_path, None)
    assert result["path"] == str(tmp_path / "models" / "clf" / "3" / "model.pkl")
    assert result["error"][:2] == ["adapter.azureml.core_model", "ModelNotFoundException"]  # type: ignore[index]
    assert str(result["installed"]).startswith("cannot import name 'InferenceConfig'")  # nothing else is faked


def test_installed_azureml_core_stays_whole_and_only_the_local_lookup_is_ours(tmp_path: Path) -> None:
    installed = tmp_path / "site"
    for relative, text in FAKE_CORE.items():
        (installed / relative).parent.mkdir(parents=True, exist_ok=True)
        (installed / relative).write_text(text)
    app = tmp_path / "app"
    put(app / "models" / "clf" / "1", "model.pkl")
    result = run_check(app, installed)
    assert result == {
        "path": str(app / "models" / "clf" / "1" / "model.pkl"),
        "error": ["azureml.exceptions", "ModelNotFoundException", result["error"][2]],  # type: ignore[index]
        "installed": [True, True],
        "remote": "registry:clf",
    }


def test_a_relative_app_root_is_resolved_once_before_the_working_directory_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative AML_APP_ROOT means the folder it named when the app started, not `rel/rel` after the move into it."""
    from adapter.script import entry_script
    from adapter.settings import Settings

    app = tmp_path / "rel"
    put(app / "models" / "clf" / "1", "model.pkl")
    (app / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AML_APP_ROOT", "rel")
    monkeypatch.setenv("AZUREML_ENTRY_SCRIPT", "score.py")
    for name in ("AZUREML_MODEL_DIR", "AZUREML_SOURCE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    entry_script.prepare_process(Settings.from_env())
    assert Path.cwd() == app.resolve()
    assert Model.get_model_path("clf") == str(app.resolve() / "models" / "clf" / "1" / "model.pkl")
