"""Deployments a Function App cannot serve, refused early with the reason and what to do instead, and the ones it
serves with a warning (GPU instance types: Functions runs on CPU). Read before anything is written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from adapter.tools.importer.deployment_file import Refused

GPU_INSTANCE = re.compile(r"^Standard_N[CDVG]|gpu", re.IGNORECASE)


def refuse_unsupported(path: Path, data: dict[str, Any]) -> None:
    """One sentence for a kind of deployment the adapter cannot serve."""
    schema = str(data.get("$schema") or "")
    model = data.get("model")
    model_type = str(model.get("type", "")) if isinstance(model, dict) else ""
    environment = data.get("environment")
    config = data.get("code_configuration")
    if (
        "package" in schema.lower()
        or {"target_environment", "inferencing_server", "base_environment_source"} & data.keys()
    ):
        raise Refused(
            f"{path} is a model package (az ml model package), an image AML builds: import the online deployment "
            "the package was made from (its code_configuration, model and conda file) instead."
        )
    if model_type.lower() == "triton_model" or (not isinstance(config, dict) and _mentions(data, "triton")):
        raise Refused(
            f"{path} deploys a Triton model, served by NVIDIA Triton Inference Server without a scoring script; "
            "Azure Functions cannot run Triton: write a score.py that loads the model (ONNX Runtime, say) and "
            "import a deployment with it, or use Azure Container Apps for Triton."
        )
    if _mentions(data, "torchserve"):
        raise Refused(
            f"{path} is a TorchServe deployment (a custom container running torchserve); Azure Functions cannot run "
            "TorchServe: write a score.py with init()/run() that loads the model with torch, or host the container "
            "on Azure Container Apps."
        )
    if isinstance(environment, str) and not isinstance(config, dict) and model is None:
        raise Refused(
            f"{path} deploys the environment {environment} with no code and no model: a model package (az ml model "
            "package) or a custom image AML serves as it is; import the deployment the package was made from (its "
            "code_configuration, model and conda file) instead."
        )
    if isinstance(environment, dict) and not isinstance(config, dict) and "mlflow" not in model_type.lower():
        if environment.get("image") or environment.get("build") or environment.get("inference_config"):
            raise Refused(
                f"{path} is a custom container deployment (an image with its own server, no code_configuration); "
                "Azure Functions runs Python scripts, not containers: host the image on Azure Container Apps, or "
                "give the deployment a code_configuration with a score.py."
            )


def gpu_warning(data: dict[str, Any]) -> str | None:
    instance = data.get("instance_type")
    if isinstance(instance, str) and GPU_INSTANCE.search(instance):
        return (
            f"instance_type {instance} has a GPU; Azure Functions runs on CPU only, so the model runs on CPU here "
            "(slower, and a script that requires CUDA fails): check init() and run() time with python -m adapter check."
        )
    return None


def _mentions(data: dict[str, Any], word: str) -> bool:
    """Whether the environment's image, name or inference config names `word` (triton, torchserve)."""
    environment = data.get("environment")
    if not isinstance(environment, dict):
        return False
    text = " ".join(str(environment.get(key, "")) for key in ("image", "inference_config", "name")).lower()
    return word in text
