"""Which of a deployment file's environment variables become the Function App's app settings.

The platform owns some names: the Functions host reads `FUNCTIONS_*` and `AzureWebJobs*` (`FUNCTIONS_WORKER_RUNTIME`
picks the language worker, `AzureWebJobsStorage` holds the function keys, `AzureWebJobsSecretStorageType` where
they are kept), App Service reads `WEBSITE_*` (`WEBSITE_RUN_FROM_PACKAGE` decides which code runs), and
`APPLICATIONINSIGHTS_*` says where the app's logs go. An AML deployment has no business setting them, and one that
does would take over the Function App it is imported into, so they are refused, each with its reason, and written
nowhere: not into local.settings.json, not into the printed `az` command.

The rest are written as given. Those that change how programs start or where the installers fetch from
(`LD_PRELOAD`, `PYTHONPATH`, `PIP_INDEX_URL`) are still the deployment's settings, but `check` runs without them
(`adapter.tools.check.local_settings`): they would act on the tools of this machine, not only on the user's script.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapter.tools.check import local_settings

#: Name prefixes the platform owns (compared without case, as App Service compares setting names), with why.
PLATFORM = (
    ("FUNCTIONS_", "the Functions host's own (FUNCTIONS_WORKER_RUNTIME must stay python)"),
    ("AZUREWEBJOBS", "the Functions host's storage, keys and features (AzureWebJobsStorage holds the function keys)"),
    ("AZUREFUNCTIONSJOBHOST", "overrides host.json for the Functions host"),
    ("AZURE_FUNCTIONS_", "the Functions host's own"),
    ("WEBSITE_", "App Service's own: it decides what code runs and how (WEBSITE_RUN_FROM_PACKAGE)"),
    ("WEBSITES_", "App Service's own"),
    ("SCM_", "the deployment service's own"),
    ("APPLICATIONINSIGHTS_", "where the Function App's logs and telemetry go: set it on the Function App"),
    ("APPINSIGHTS_", "where the Function App's logs and telemetry go: set it on the Function App"),
)


@dataclass
class Settings:
    kept: dict[str, str] = field(default_factory=dict)
    #: `NAME (why)` for each platform-owned name the deployment file set.
    refused: list[str] = field(default_factory=list)


def split(settings: dict[str, str]) -> Settings:
    """The deployment's settings without the platform's, and those it had with the reason each is refused."""
    out = Settings()
    for name, value in settings.items():
        reason = platform_reason(name)
        if reason is None:
            out.kept[name] = value
        else:
            out.refused.append(f"{name} ({reason})")
    return out


def platform_reason(name: str) -> str | None:
    upper = name.upper()
    return next((reason for prefix, reason in PLATFORM if upper.startswith(prefix)), None)


def for_check(settings: dict[str, str]) -> dict[str, str]:
    """The settings `check` runs with: without those that act on this machine's programs (`local_settings.reason`),
    which check names when it finds them in local.settings.json."""
    return {name: value for name, value in settings.items() if local_settings.reason(name) is None}
