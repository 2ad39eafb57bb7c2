"""What `func azure functionapp publish` would upload: `.funcignore`, the package's size, the Python version, and
the settings it leaves behind.

Core Tools zips the app folder minus what `.funcignore` excludes (gitignore syntax), so tests, benchmarks, virtual
environments and caches must be excluded there, and nothing the app needs at run time may be. `local.settings.json`
is one of the things left out: on Azure the settings are the Function App's app settings.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from adapter.models import BUNDLE, human_size
from adapter.tools.check.report import Outcome

#: Python versions the Azure Functions 4.x Python worker supports.
SUPPORTED_PYTHON = ((3, 10), (3, 11), (3, 12), (3, 13))
#: A representative path per kind of content that must stay out of the package.
MUST_EXCLUDE = {
    "tests": "tests/test_app.py",
    "benchmarks": "bench/run.py",
    "virtual environments": ".venv/bin/python",
    "virtual environments (venv/)": "venv/bin/python",
    "bytecode caches": "adapter/__pycache__/functions.cpython-311.pyc",
    "tool caches": ".pytest_cache/README.md",
    "local settings (secrets)": "local.settings.json",
}
#: What the app needs at run time, besides the entry script and the models.
MUST_KEEP = ("function_app.py", "host.json", "requirements.txt", "adapter/functions.py")
LARGEST = 5
#: Settings of the adapter (and azmlinfsrv) that a shell may set: the environment holds much else.
SETTING_PREFIXES = ("AML_", "AZUREML_", "SCORING_", "SERVICE_")
SETTING_NAMES = frozenset({"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", "AzureWebJobsDisableHomepage"})
#: Set by Core Tools or by `az functionapp create` on Azure; a local value (the storage emulator) must not travel.
PLATFORM_SETTINGS = frozenset(
    {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "AzureWebJobsStorage",
        "AzureWebJobsFeatureFlags",
        "AzureWebJobsScriptRoot",
        "AzureWebJobsSecretStorageType",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
    }
)
#: The adapter's defaults: setting one of these to its default changes nothing on Azure.
DEFAULTS = {
    "AZUREML_ENTRY_SCRIPT": "score.py",
    "SCORING_TIMEOUT_MS": "3600000",
    "SCORING_CONCURRENCY": "1",
    "SCORING_INIT_RETRY_MS": "1000",
    "SERVICE_NAME": "ML service",
    "SERVICE_VERSION": "1.0",
    "SERVICE_PATH_PREFIX": "",
}
#: Settings naming a folder: a path on this machine means nothing on the Function App.
PATH_SETTINGS = ("AML_APP_ROOT", "AZUREML_MODEL_DIR")
#: Where the package lands on the Function App.
AZURE_APP_ROOT = "/home/site/wwwroot"
_SECRET = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CONNECTION|CREDENTIAL", re.IGNORECASE)
#: What the settings command shows in place of a value, for the user to replace.
SECRET_PLACEHOLDER = "<secret: set it yourself>"
OUTSIDE_PLACEHOLDER = "<a folder in the package>"
PLACEHOLDERS = (SECRET_PLACEHOLDER, OUTSIDE_PLACEHOLDER)
SHOWN = 5
LARGE_PACKAGE = 500 * 1024 * 1024


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


class FuncIgnore:
    """gitignore matching, as Core Tools applies `.funcignore`: the last matching pattern wins, and an excluded
    folder excludes everything in it."""

    def __init__(self, text: str) -> None:
        self.rules = [rule for line in text.splitlines() if (rule := _rule(line)) is not None]

    def excludes(self, relative: str, is_dir: bool = False) -> bool:
        parts = relative.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            if self._matches("/".join(parts[:depth]), is_dir or depth < len(parts)):
                return True
        return False

    def _matches(self, path: str, is_dir: bool) -> bool:
        excluded = False
        for rule in self.rules:
            if (is_dir or not rule.dir_only) and rule.regex.fullmatch(path):
                excluded = not rule.negate
        return excluded


def python_version(version: tuple[int, int] = sys.version_info[:2]) -> Outcome:
    supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED_PYTHON)
    shown = f"{version[0]}.{version[1]}"
    if version in SUPPORTED_PYTHON:
        return Outcome.ok(f"{shown} (Azure Functions supports {supported})")
    return Outcome.warn(
        f"{shown} is not one Azure Functions supports ({supported})",
        "The app runs on the Function App's Python version: check it with that one, so wheels and behaviour match.",
    )


def app_settings(function_root: Path, applied: list[str], env: Mapping[str, str] | None = None) -> Outcome:
    """Settings that come from `local.settings.json` (`applied`) or the shell: the Function App will not have them
    unless they are set as app settings, so say which and print the command that sets them (secrets as
    placeholders: a key is never printed)."""
    env = os.environ if env is None else env
    from_shell = [n for n in env if (n.startswith(SETTING_PREFIXES) or n in SETTING_NAMES) and n not in applied]
    found: list[tuple[str, str, str]] = []
    for name in sorted({*applied, *from_shell}, key=lambda n: (n != "AZUREML_ENTRY_SCRIPT", n)):
        value = env.get(name, "")
        if not _travels(function_root, name, value):
            continue
        found.append((name, "local.settings.json" if name in applied else "the shell", value))
    if not found:
        return Outcome.ok("nothing is set only in local.settings.json or the shell")
    details = [_setting_line(function_root, name, source, value) for name, source, value in found]
    command = settings_command(function_root, {name: value for name, _, value in found})
    return Outcome.warn(
        f"{len(found)} setting(s) only in local.settings.json or the shell: Azure will not have them",
        *details,
        "local.settings.json is not published; set them as app settings (or check they are set already):",
        command,
    )


def _travels(function_root: Path, name: str, value: str) -> bool:
    """Whether the Function App needs this setting: not the platform's own, not the adapter's default, and not
    AML_APP_ROOT naming the app folder itself (the default there too)."""
    if name in PLATFORM_SETTINGS or DEFAULTS.get(name) == value:
        return False
    return not (name == "AML_APP_ROOT" and _azure_value(function_root, name, value) == AZURE_APP_ROOT)


def settings_command(function_root: Path, values: Mapping[str, str]) -> str:
    """The one `az functionapp config appsettings set` line, printed by import and by check alike: the settings the
    Function App needs (platform settings and defaults left out), secrets as placeholders, app folders as the same
    folders under /home/site/wwwroot."""
    names = sorted(values, key=lambda n: (n != "AZUREML_ENTRY_SCRIPT", n))
    words = [
        _assignment(name, _azure_value(function_root, name, values[name]))
        for name in names
        if _travels(function_root, name, values[name])
    ]
    return "az functionapp config appsettings set --name <APP_NAME> --resource-group <RESOURCE_GROUP> --settings " + (
        " ".join(words)
    )


def _assignment(name: str, value: str) -> str:
    """`NAME=VALUE` as one shell word that runs nothing when pasted (values come from a deployment file: `$(...)`,
    backquotes and `;` are quoted); only the adapter's own placeholders are shown in double quotes, to be replaced."""
    if value in PLACEHOLDERS:
        return shlex.quote(f"{name}=") + f'"{value}"'
    return shlex.quote(f"{name}={value}")


def _setting_line(function_root: Path, name: str, source: str, value: str) -> str:
    line = f"{name} (from {source})"
    if name == "AZUREML_ENTRY_SCRIPT":
        fallback = "serves score.py, which is here" if (function_root / "score.py").is_file() else "finds no score.py"
        line += f": without it the Function App {fallback}, not {value}"
    elif name in PATH_SETTINGS and _azure_value(function_root, name, value) == OUTSIDE_PLACEHOLDER:
        line += f": {value} is outside the app folder, so it is not published"
    return line


def _azure_value(function_root: Path, name: str, value: str) -> str:
    """The value to set on Azure: secrets as a placeholder, a folder of this app as the same folder there."""
    if _SECRET.search(name):
        return SECRET_PLACEHOLDER
    if name in PATH_SETTINGS and value:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else (function_root / path)
        path = Path(os.path.abspath(path))
        if not path.is_relative_to(function_root):
            return OUTSIDE_PLACEHOLDER
        relative = path.relative_to(function_root).as_posix()
        return AZURE_APP_ROOT if relative == "." else f"{AZURE_APP_ROOT}/{relative}"
    return value


def funcignore(function_root: Path, entry_script: Path, app_root: Path) -> Outcome:
    path = function_root / ".funcignore"
    if not path.is_file():
        return Outcome.fail(
            ".funcignore is missing", "Without it tests, virtual environments and caches are published too."
        )
    ignore = FuncIgnore(path.read_text(encoding="utf-8"))
    problems = [
        f"does not exclude {kind} ({sample})" for kind, sample in MUST_EXCLUDE.items() if not ignore.excludes(sample)
    ]
    keep = [*MUST_KEEP, *_files(entry_script, function_root), *_files(app_root / BUNDLE, function_root)]
    dropped = [needed for needed in keep if ignore.excludes(needed)]
    problems += [f"excludes {needed}, which the app needs" for needed in dropped[:SHOWN]]
    if len(dropped) > SHOWN:
        problems.append(f"... and {len(dropped) - SHOWN} more files the app needs")
    if problems:
        return Outcome.fail(f"{len(problems)} problem(s) in .funcignore", *problems)
    return Outcome.ok("keeps tests, benchmarks, virtual environments and caches out")


def _files(path: Path, function_root: Path) -> list[str]:
    """The files at or under `path` that are in the package, relative to its root."""
    if not path.is_relative_to(function_root):
        return []
    found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return [p.relative_to(function_root).as_posix() for p in found]


def package(function_root: Path) -> Outcome:
    """The size of what would be uploaded, and its largest files (usually the models)."""
    path = function_root / ".funcignore"
    ignore = FuncIgnore(path.read_text(encoding="utf-8") if path.is_file() else "")
    files: list[tuple[int, str]] = []
    suspicious: list[str] = []
    for parent, dirs, names in os.walk(function_root):
        base = Path(parent).relative_to(function_root)
        dirs[:] = [d for d in dirs if d != ".git" and not ignore.excludes((base / d).as_posix(), is_dir=True)]
        suspicious += [(base / d).as_posix() + "/" for d in dirs if d.startswith(".") or d.endswith("cache")]
        for name in names:
            relative = (base / name).as_posix()
            if not ignore.excludes(relative) and os.path.exists(Path(parent, name)):
                files.append((os.stat(Path(parent, name)).st_size, relative))
    total = sum(size for size, _ in files)
    largest = [f"{human_size(size):>9}  {name}" for size, name in sorted(files, reverse=True)[:LARGEST]]
    summary = f"{human_size(total)} in {len(files)} files"
    if suspicious:
        shown = ", ".join(suspicious[:SHOWN]) + (", ..." if len(suspicious) > SHOWN else "")
        return Outcome.warn(f"{summary}, with {shown}: add to .funcignore?", "largest:", *largest)
    if total > LARGE_PACKAGE:
        return Outcome.warn(f"{summary}: large packages deploy and cold-start slowly", "largest:", *largest)
    return Outcome.ok(summary, "largest:", *largest)


def _rule(line: str) -> Rule | None:
    pattern = line.rstrip("\n").rstrip()
    if not pattern or pattern.startswith("#"):
        return None
    negate = pattern.startswith("!")
    pattern = pattern[1:] if negate else pattern.removeprefix("\\")
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    regex = _translate(pattern.lstrip("/"))
    return Rule(re.compile(regex if anchored else f"(?:.*/)?{regex}"), negate, dir_only)


def _translate(pattern: str) -> str:
    """A gitignore glob as a regular expression over `/`-separated relative paths."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern[i] == "*":
            out.append(".*" if pattern.startswith("**", i) else "[^/]*")
            i += 2 if pattern.startswith("**", i) else 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
