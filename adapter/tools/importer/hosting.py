"""AML hosting settings that do not carry over to a Function App, each with the Functions setting that plays its
part where one does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapter.tools.importer.deployment_file import Refused

#: Deployment key -> what plays its part on Azure Functions.
NOT_CARRIED = {
    "instance_type": "the plan's instance memory (Flex Consumption: --instance-memory 2048 or 4096 for large models)",
    "instance_count": "scaling is the platform's (Flex Consumption: --maximum-instance-count)",
    "scale_settings": "scaling is the platform's (Flex Consumption: --maximum-instance-count; always-ready instances)",
    "liveness_probe": "none: the host watches the worker; /health answers without the script",
    "readiness_probe": "none: the warm-up trigger runs init() before traffic (SCORING_INIT_WAIT_MS bounds the wait)",
    "app_insights_enabled": "APPLICATIONINSIGHTS_CONNECTION_STRING (set by az functionapp create)",
    "resources": "the plan's instance memory (Flex Consumption: --instance-memory)",
    "tags": "az functionapp update --set tags.NAME=VALUE, or az tag",
    "egress_public_network_access": "the Function App's virtual network integration",
    "data_collector": "AML_DATA_COLLECTION_* settings (docs/data-collection.md)",
    "request_settings.max_queue_wait_ms": "none: a request waits for a free run() slot until the scoring timeout",
    "request_settings.max_concurrent_requests_per_instance (beyond one process)": (
        "FUNCTIONS_WORKER_PROCESS_COUNT and PYTHON_THREADPOOL_THREAD_COUNT"
    ),
    "request_timeout (the host's limit)": "functionTimeout in host.json",
}


#: The collections of AML's MLflow scoring script.
MLFLOW_COLLECTIONS = ("model_inputs", "model_outputs")


def mlflow_collection(data: dict[str, Any], path: Path) -> dict[str, str]:
    """The settings that make the adapter's MLflow script collect, for a no-code deployment whose `data_collector`
    enables `model_inputs` or `model_outputs` (AML's script collects nothing otherwise, nor does the adapter's),
    with its `sampling_rate`; {} when it enables neither."""
    collector = data.get("data_collector")
    collections = collector.get("collections") if isinstance(collector, dict) else None
    if not isinstance(collector, dict) or not isinstance(collections, dict):
        return {}
    enabled = [
        name
        for name in MLFLOW_COLLECTIONS
        if isinstance(collections.get(name), dict) and str(collections[name].get("enabled")).lower() == "true"
    ]
    if not enabled:
        return {}
    settings = {"AML_DATA_COLLECTION_LOG": "true"}
    rate = collector.get("sampling_rate")
    if rate is not None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise Refused(f"{path}: data_collector.sampling_rate must be a number from 0 to 1, not {rate!r}.")
        settings["AML_DATA_COLLECTION_SAMPLE_RATE"] = str(rate)
    return settings


def not_carried_over(data: dict[str, Any], carried: frozenset[str] = frozenset()) -> list[str]:
    """One line per hosting key the deployment sets, but those in `carried`."""
    found = [f"{key}: {NOT_CARRIED[key]}" for key in NOT_CARRIED if key in data and key not in carried]
    request = data.get("request_settings")
    if isinstance(request, dict) and "max_queue_wait_ms" in request:
        found.append(f"request_settings.max_queue_wait_ms: {NOT_CARRIED['request_settings.max_queue_wait_ms']}")
    if isinstance(request, dict) and "request_timeout_ms" in request:
        found.append(
            "request_settings.request_timeout_ms is SCORING_TIMEOUT_MS; the host's own limit is functionTimeout in "
            "host.json (keep it above)"
        )
    return found
