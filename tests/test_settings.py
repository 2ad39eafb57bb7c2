"""Configuration by azmlinfsrv's environment variables; a bad value gets a message that names the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from targets import SCRIPTS, InProcess, Request, script_env

from adapter.paths import FUNCTION_APP_ROOT
from adapter.settings import DEFAULT_TIMEOUT_MS, ConfigError, Settings


def test_defaults_serve_the_bundled_sample() -> None:
    settings = Settings.from_env({})
    assert settings.app_root == FUNCTION_APP_ROOT
    assert settings.entry_script == FUNCTION_APP_ROOT / "score.py"
    assert settings.scoring_timeout_ms == DEFAULT_TIMEOUT_MS == 3_600_000
    assert settings.scoring_concurrency == 1
    assert settings.cors_origins == ()
    assert (settings.service_name, settings.service_version, settings.service_path_prefix) == ("ML service", "1.0", "")
    # One model with one version: AZUREML_MODEL_DIR is that version's folder, as AML lays it out.
    assert settings.model_dir == FUNCTION_APP_ROOT / "models" / "iris-classifier" / "1"


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "AML_APP_ROOT": str(SCRIPTS),
            "AZUREML_ENTRY_SCRIPT": "echo_undecorated.py",
            "AZUREML_SOURCE_DIRECTORY": "srcdir",
            "AZUREML_MODEL_DIR": "/opt/models",
            "SCORING_TIMEOUT_MS": "2500",
            "AML_CORS_ORIGINS": "https://a.example, https://b.example",
            "SERVICE_NAME": "iris",
            "SERVICE_VERSION": "2.1",
            "SERVICE_PATH_PREFIX": "v2",
            "SCORING_CONCURRENCY": "3",
        }
    )
    assert settings.entry_script == SCRIPTS / "echo_undecorated.py"
    assert settings.source_dir == SCRIPTS / "srcdir"
    assert settings.model_dir == Path("/opt/models")
    assert settings.scoring_timeout_ms == 2500
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (settings.service_name, settings.service_version, settings.service_path_prefix) == ("iris", "2.1", "v2")
    assert settings.scoring_concurrency == 3


def test_several_models_make_the_models_folder_the_model_dir(tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / "models" / name / "1").mkdir(parents=True)
    (tmp_path / "score.py").write_text("")
    assert Settings.from_env({"AML_APP_ROOT": str(tmp_path)}).model_dir == tmp_path / "models"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SCORING_TIMEOUT_MS": "soon"}, "SCORING_TIMEOUT_MS must be a whole number, got 'soon'"),
        ({"SCORING_TIMEOUT_MS": "0"}, "SCORING_TIMEOUT_MS must be greater than 0"),
        ({"SCORING_CONCURRENCY": "-2"}, "SCORING_CONCURRENCY must be greater than 0"),
        ({"AML_APP_ROOT": "/no/such/folder"}, "AML_APP_ROOT must name an existing folder"),
        ({"AZUREML_ENTRY_SCRIPT": "nope.py"}, "AZUREML_ENTRY_SCRIPT must name a file"),
        ({"AZUREML_SOURCE_DIRECTORY": "nowhere"}, "AZUREML_SOURCE_DIRECTORY must name an existing folder"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_invalid_configuration_is_a_json_error_not_a_crash() -> None:
    target = InProcess({**script_env("echo_undecorated.py"), "SCORING_TIMEOUT_MS": "soon"})
    try:
        reply = target.send(Request("POST", body=b"x"))
        health = target.send(Request("GET", "/"))
    finally:
        target.stop()
    assert reply.status == 500
    assert reply.json() == {"message": "Invalid configuration: SCORING_TIMEOUT_MS must be a whole number, got 'soon'."}
    assert health.status == 200  # the process is alive; only scoring is refused


@pytest.mark.parametrize("name", ["host.json", "local.settings.json"])
def test_a_host_file_that_is_a_fifo_is_an_error_not_a_silent_default(tmp_path: Path, name: str) -> None:
    """Issue 21 point 11: never opened (it would hang the thread), never taken for an absent file either."""
    from adapter import host_config

    os.mkfifo(tmp_path / name)
    read = host_config.route_prefix if name == "host.json" else host_config.load_local_settings
    with pytest.raises(ConfigError, match=rf"^{name} is not a regular file: it is a named pipe \(FIFO\); it cannot"):
        read(tmp_path)
