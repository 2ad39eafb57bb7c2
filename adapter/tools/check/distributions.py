"""Which PyPI distribution to add for a module that is not installed: `sklearn` is scikit-learn, `cv2` is
opencv-python-headless (Functions hosts have no display libraries), `PIL` is pillow.

A module that is installed somewhere is named by the installation's metadata (`importlib.metadata`); one that is
not installed anywhere is looked up in the table of common names below, and otherwise assumed to be its own
distribution's name (true for most: joblib, xgboost, torch).
"""

from __future__ import annotations

from importlib import metadata

#: Import names whose distribution is named otherwise (the common ones in ML scoring scripts).
KNOWN = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python-headless",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "google.protobuf": "protobuf",
    "attr": "attrs",
    "jwt": "pyjwt",
    "Crypto": "pycryptodome",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "magic": "python-magic",
    "fitz": "pymupdf",
    "serial": "pyserial",
    "OpenSSL": "pyopenssl",
    "tf_keras": "tf-keras",
    "imblearn": "imbalanced-learn",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "xgboost": "xgboost",
    "onnxruntime": "onnxruntime",
    "pyarrow": "pyarrow",
    "pmdarima": "pmdarima",
    "prophet": "prophet",
    "sentence_transformers": "sentence-transformers",
    "azure.storage.blob": "azure-storage-blob",
    "azure.identity": "azure-identity",
    "azure.keyvault.secrets": "azure-keyvault-secrets",
    "azure.keyvault.keys": "azure-keyvault-keys",
    "azure.ai.ml": "azure-ai-ml",
    "azure.cosmos": "azure-cosmos",
    "azureml.core": "azureml-core",
    "opencensus": "opencensus",
    "google.cloud.storage": "google-cloud-storage",
    "mpl_toolkits": "matplotlib",
    "Levenshtein": "levenshtein",
    "zmq": "pyzmq",
    "win32api": "pywin32",
    "git": "gitpython",
    "ruamel": "ruamel.yaml",
    "tensorflow_hub": "tensorflow-hub",
    "tensorflow_text": "tensorflow-text",
}


def installed(module: str) -> list[str]:
    """The installed distributions providing `module`'s top-level package (`packages_distributions`)."""
    top = module.split(".")[0]
    try:
        return sorted(set(metadata.packages_distributions().get(top, [])))
    except Exception:  # broken metadata of some installed package: fall back to the table
        return []


def to_install(module: str) -> str:
    """The distribution to add to requirements.txt for `module` (`sklearn.linear_model` -> scikit-learn)."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        known = KNOWN.get(".".join(parts[:depth]))
        if known:
            return known
    found = installed(module)
    if len(found) == 1 or (found and parts[0] not in ("azure", "google", "azureml")):
        return found[0].lower()
    if parts[0] in ("azure", "google", "azureml") and len(parts) > 1:
        return f"{parts[0]}-{parts[1]}".replace("_", "-")
    return parts[0].replace("_", "-").lower()
