"""Scripts that reach Azure with an identity (azure-identity's ManagedIdentityCredential or
DefaultAzureCredential, Key Vault clients) and settings that are Key Vault references: on AML the endpoint's
identity did it; a Function App needs its own identity and a role, or the calls fail at init()."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

USES_IDENTITY = re.compile(
    r"ManagedIdentityCredential|DefaultAzureCredential|azure\.identity|azure\.keyvault|SecretClient|"
    r"MSI_ENDPOINT|IDENTITY_ENDPOINT"
)
KEY_VAULT = re.compile(r"azure\.keyvault|SecretClient|vault\.azure\.net", re.IGNORECASE)
MAX_BYTES = 1_000_000


def hints(sources: list[Path], settings: Mapping[str, str]) -> list[str]:
    """The commands that give the Function App an identity and the role, when the code or settings need one."""
    found = [p for p in sources if p.suffix == ".py" and _matches(p, USES_IDENTITY)]
    vault = any(_matches(p, KEY_VAULT) for p in found)
    references = [name for name, value in settings.items() if "@Microsoft.KeyVault(" in value]
    vault_settings = [name for name, value in settings.items() if "vault.azure.net" in value.lower()]
    if not found and not references:
        return []
    lines = []
    if found:
        names = ", ".join(sorted({p.name for p in found})[:5])
        lines.append(
            f"{names} authenticate(s) with an Azure identity (azure-identity / Key Vault): the Function App needs "
            "one. Give it a system-assigned identity and the role it needs:"
        )
    else:
        lines.append(
            f"{', '.join(references)} are Key Vault references: the Function App needs an identity to read them:"
        )
    lines.append("  az functionapp identity assign --name <APP_NAME> --resource-group <RESOURCE_GROUP>")
    role = "Key Vault Secrets User" if vault or references or vault_settings else "<ROLE>"
    scope = "<KEY_VAULT_RESOURCE_ID>" if role.startswith("Key") else "<RESOURCE_ID>"
    lines.append(f'  az role assignment create --assignee <PRINCIPAL_ID_PRINTED_ABOVE> --role "{role}" --scope {scope}')
    if references:
        lines.append(
            f"Key Vault references among the settings: {', '.join(references)}. The Function App resolves them "
            "with its identity (Key Vault Secrets User on that vault); set them as app settings as they are."
        )
    lines.append(
        "With a user-assigned identity instead, set AZURE_CLIENT_ID to its client id (ManagedIdentityCredential "
        "and DefaultAzureCredential read it). A secret can also be an app setting that is a Key Vault reference: "
        "NAME=@Microsoft.KeyVault(SecretUri=https://<VAULT>.vault.azure.net/secrets/<SECRET>/)."
    )
    return lines


def _matches(path: Path, pattern: re.Pattern[str]) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return bool(pattern.search(handle.read(MAX_BYTES)))
    except OSError:
        return False
