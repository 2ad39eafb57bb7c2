"""Which of `local.settings.json`'s settings `check` puts into its environment.

After `import`, local.settings.json holds the deployment's settings, written by a deployment file from elsewhere.
`check` runs the entry script with them (that is its job), but it also runs uv, pip and Python on this machine, which
read settings of their own: `LD_PRELOAD` loads a library into every program started, `PIP_INDEX_URL` and
`UV_INDEX_URL` choose where packages come from, `HTTPS_PROXY` and `SSL_CERT_FILE` whom the installers talk to and
trust, `ADAPTER_CHECK_CACHE` and `TMPDIR` where the check writes. Those names are never taken from
local.settings.json, and check says which it left out and why. The same names set in the shell are the user's own
and apply as always; the file's values stay there for Azure (the app settings command lists them).
"""

from __future__ import annotations

import os
from pathlib import Path

from adapter import host_config

#: (name prefixes, whole names, why), names compared in upper case (`https_proxy` is read as well as `HTTPS_PROXY`).
WITHHELD: tuple[tuple[tuple[str, ...], frozenset[str], str], ...] = (
    (
        ("LD_", "DYLD_", "PYTHON", "PYENV_", "GCONV_PATH", "GLIBC_TUNABLES", "MALLOC_", "OPENSSL_"),
        frozenset({"PATH", "HOME", "SHELL", "ENV", "BASH_ENV", "IFS", "PS4", "PROMPT_COMMAND", "BROWSER"}),
        "they change how programs start on this machine (libraries loaded, the Python and the shell run)",
    ),
    (
        ("PIP_", "UV_", "CONDA", "GIT_"),
        frozenset(
            {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"}
            | {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC"}
        ),
        "they change where the installers fetch packages from and which servers they trust",
    ),
    (
        ("XDG_",),
        frozenset({"ADAPTER_CHECK_CACHE", "TMPDIR", "TMP", "TEMP", "SSLKEYLOGFILE"}),
        "they change where check reads and writes on this machine",
    ),
)


def reason(name: str) -> str | None:
    """Why `name` is not taken from local.settings.json, or None when it is."""
    upper = name.upper()
    return next((why for prefixes, names, why in WITHHELD if upper in names or upper.startswith(prefixes)), None)


def load(root: Path) -> tuple[list[str], dict[str, str]]:
    """Put local.settings.json's settings into the environment, as `func start` does (variables already set win),
    except those `reason` names. Returns (the names set, the names left out with their values)."""
    values = host_config.local_settings(root)
    withheld = {name: value for name, value in values.items() if reason(name) and name not in os.environ}
    applied = host_config.apply({name: value for name, value in values.items() if reason(name) is None})
    return applied, withheld


def describe(names: list[str]) -> list[str]:
    """One line per reason for the names left out."""
    lines = []
    for _, _, why in WITHHELD:
        these = sorted(name for name in names if reason(name) == why)
        if these:
            lines.append(
                f"(not taken from local.settings.json: {', '.join(these)}: {why}; set them in the shell to use them "
                "here)"
            )
    return lines
