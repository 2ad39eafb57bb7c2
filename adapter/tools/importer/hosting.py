"""AML hosting settings that do not carry over to a Function App, each with the Functions setting that plays its
part where one does."""

from __future__ import annotations

from typing import Any

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
    "data_collector": "AML_DATA_COLLECTION (docs/data-collection.md)",
    "request_settings.max_queue_wait_ms": "none: a request waits for a free run() slot until the scoring timeout",
    "request_settings.max_concurrent_requests_per_instance (beyond one process)": (
        "FUNCTIONS_WORKER_PROCESS_COUNT and PYTHON_THREADPOOL_THREAD_COUNT"
    ),
    "request_timeout (the host's limit)": "functionTimeout in host.json",
}


def not_carried_over(data: dict[str, Any]) -> list[str]:
    """One line per hosting key the deployment sets."""
    found = [f"{key}: {NOT_CARRIED[key]}" for key in NOT_CARRIED if key in data]
    request = data.get("request_settings")
    if isinstance(request, dict) and "max_queue_wait_ms" in request:
        found.append(f"request_settings.max_queue_wait_ms: {NOT_CARRIED['request_settings.max_queue_wait_ms']}")
    if isinstance(request, dict) and "request_timeout_ms" in request:
        found.append(
            "request_settings.request_timeout_ms is SCORING_TIMEOUT_MS; the host's own limit is functionTimeout in "
            "host.json (keep it above)"
        )
    return found
