"""Where the app is: the one owner of the function app root and of `AML_APP_ROOT`.

The function app root holds `function_app.py`, `host.json` and this package; `AML_APP_ROOT` (azmlinfsrv's name)
may put the entry script and `models/` elsewhere. A relative `AML_APP_ROOT` is resolved against the working
directory of the moment, which the adapter moves to the app root before importing the script (as AML does), so it
is resolved once, here, and pinned as an absolute path (`pin_app_root`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

#: The function app root: the folder holding `function_app.py` and this package.
FUNCTION_APP_ROOT = Path(__file__).resolve().parent.parent


def app_root(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding the entry script and `models/`: AML_APP_ROOT (absolute), else the function app root."""
    root = (os.environ if env is None else env).get("AML_APP_ROOT")
    return Path(root).expanduser().resolve() if root else FUNCTION_APP_ROOT


def pin_app_root(root: Path, env: MutableMapping[str, str] | None = None) -> None:
    """Write the resolved root as AML_APP_ROOT, so later look-ups (`Model.get_model_path`, and the script itself) see
    the deployment's root as an absolute path, whatever the working directory has become."""
    env = os.environ if env is None else env
    env["AML_APP_ROOT"] = str(root)
