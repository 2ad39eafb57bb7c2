"""Configuration from the same environment variables azmlinfsrv reads.

Azure Functions fills the environment from app settings (or `local.settings.json` `Values` under `func start` and
`python -m adapter serve`), so one set of names works on AML, on Functions and locally.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adapter import mlflow_model
from adapter.models import default_model_dir
from adapter.paths import FUNCTION_APP_ROOT

DEFAULT_TIMEOUT_MS = 3_600_000
DEFAULT_INIT_RETRY_MS = 1_000
#: How long a request waits for a script still importing or in init() before a 503 "still starting": Azure cuts
#: every HTTP answer at 230 s, and this leaves 110 s of that for run().
DEFAULT_INIT_WAIT_MS = 120_000


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the variable."""


@dataclass(frozen=True)
class HttpSettings:
    """What the HTTP policies need, read apart from the script's settings so that a broken script setting still
    leaves working CORS and key checks in front of the error it causes."""

    cors_origins: tuple[str, ...] = ()
    #: AML-style bearer keys (primary, secondary...); empty: the host's Functions keys guard `/score` instead.
    scoring_keys: tuple[bytes, ...] = field(default=(), repr=False)
    #: SCORING_ERROR_DETAILS: put the exception's message (never its traceback) in run()'s 500 answers, for
    #: callers who cannot read the logs (Power BI users). Off by default, as in azmlinfsrv.
    error_details: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if env is None else env
        return cls(
            cors_origins=tuple(o.strip() for o in env.get("AML_CORS_ORIGINS", "").split(",") if o.strip()),
            scoring_keys=parse_keys(env),
            error_details=flag(env, "SCORING_ERROR_DETAILS"),
        )


@dataclass(frozen=True)
class Settings:
    app_root: Path
    entry_script: Path
    source_dir: Path | None
    model_dir: Path | None
    scoring_timeout_ms: int
    service_name: str
    service_version: str
    service_path_prefix: str
    #: How many `run()` calls may execute at once; 1 (the default) serialises them like an azmlinfsrv worker.
    scoring_concurrency: int
    #: First back-off after a failed import/`init()`; it doubles on each failure, up to a minute.
    init_retry_ms: int
    #: Longest a request waits for the script's import and `init()`, which go on after it gets its 503.
    init_wait_ms: int = DEFAULT_INIT_WAIT_MS
    http: HttpSettings = field(default_factory=HttpSettings)
    #: MLFLOW_MODEL_FOLDER: the MLflow model under `model_dir` that the adapter's no-code script serves.
    mlflow_model_folder: str | None = None

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return self.http.cors_origins

    @property
    def scoring_keys(self) -> tuple[bytes, ...]:
        return self.http.scoring_keys

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, http: HttpSettings | None = None) -> Settings:
        """The settings `env` describes; `http`, when the caller has already read the HTTP settings from it (they are
        parsed once: a deployment reads them first, so a broken script setting leaves them working)."""
        env = os.environ if env is None else env
        root = env.get("AML_APP_ROOT")
        app_root = _existing_dir("AML_APP_ROOT", Path(root).expanduser() if root else FUNCTION_APP_ROOT)
        entry_script = (app_root / (env.get("AZUREML_ENTRY_SCRIPT") or "score.py")).resolve()
        source = env.get("AZUREML_SOURCE_DIRECTORY")
        source_dir = _existing_dir("AZUREML_SOURCE_DIRECTORY", app_root / source) if source else None
        user_model_dir = env.get("AZUREML_MODEL_DIR") or None
        model_dir = Path(user_model_dir) if user_model_dir else default_model_dir(app_root)
        mlflow_folder = None
        if not entry_script.is_file():
            entry_script, mlflow_folder = _no_code(env, entry_script, model_dir)
        return cls(
            app_root=app_root,
            entry_script=entry_script,
            source_dir=source_dir,
            model_dir=model_dir,
            mlflow_model_folder=mlflow_folder,
            scoring_timeout_ms=positive_int(env, "SCORING_TIMEOUT_MS", DEFAULT_TIMEOUT_MS),
            service_name=env.get("SERVICE_NAME", "ML service"),
            service_version=env.get("SERVICE_VERSION", "1.0"),
            service_path_prefix=env.get("SERVICE_PATH_PREFIX", ""),
            scoring_concurrency=positive_int(env, "SCORING_CONCURRENCY", 1),
            init_retry_ms=positive_int(env, "SCORING_INIT_RETRY_MS", DEFAULT_INIT_RETRY_MS),
            init_wait_ms=positive_int(env, "SCORING_INIT_WAIT_MS", DEFAULT_INIT_WAIT_MS),
            http=HttpSettings.from_env(env) if http is None else http,
        )


def _no_code(env: Mapping[str, str], missing: Path, model_dir: Path | None) -> tuple[Path, str]:
    """No entry script file: AML's no-code MLflow deployment when the setting names AML's MLflow script, or names
    nothing while the model folder holds an MLflow model (MLmodel); the adapter's own MLflow script serves it."""
    named = env.get("AZUREML_ENTRY_SCRIPT")
    wanted = env.get("MLFLOW_MODEL_FOLDER") or None
    if named and named != mlflow_model.ENTRY_SCRIPT_NAME:
        raise ConfigError(f"AZUREML_ENTRY_SCRIPT must name a file under AML_APP_ROOT; {str(missing)!r} is not one.")
    found = mlflow_model.find(model_dir, wanted)
    if found is None or model_dir is None:
        if not named:
            raise ConfigError(
                f"AZUREML_ENTRY_SCRIPT must name a file under AML_APP_ROOT; {str(missing)!r} is not one (and the "
                "model folder holds no MLflow model to serve without a script)."
            )
        where = f"MLFLOW_MODEL_FOLDER={wanted!r} under " if wanted else ""
        raise ConfigError(
            f"AZUREML_ENTRY_SCRIPT names AML's MLflow scoring script, but {where}AZUREML_MODEL_DIR "
            f"({model_dir}) holds no single MLflow model folder (with an MLmodel file) to serve."
        )
    return mlflow_model.ADAPTER_SCRIPT, mlflow_model.relative_folder(model_dir, found)


def parse_keys(env: Mapping[str, str]) -> tuple[bytes, ...]:
    """`AML_SCORING_KEYS` as comma-separated keys. Set but holding no key (say `" , "` from two empty secrets) is an
    error, never "auth off": that would open `/score` to anyone."""
    raw = env.get("AML_SCORING_KEYS", "")
    keys = tuple(key.strip().encode() for key in raw.split(",") if key.strip())
    if raw.strip() and not keys:
        raise ConfigError("AML_SCORING_KEYS is set but holds no key; unset it to use Functions keys instead.")
    return keys


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {value}.")
    return value


def _existing_dir(name: str, path: Path) -> Path:
    path = path.resolve()
    if not path.is_dir():
        raise ConfigError(f"{name} must name an existing folder; {str(path)!r} is not one.")
    return path
