"""The deployments of tests/deployments/aml_examples (shapes of Azure/azureml-examples' online endpoints), made
whole: their models trained now, with the libraries installed here, and the conda file that pins those versions
(as a data scientist's environment pins the versions the model was trained with)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "deployments" / "aml_examples"


def build(folder: Path) -> Path:
    """A copy of the examples under `folder`, with the models and model-1's conda file written."""
    import joblib
    import numpy
    import scipy
    import sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression, Ridge

    root = folder / "aml_examples"
    shutil.copytree(EXAMPLES, root)
    rows = numpy.random.default_rng(0).random((40, 10))
    ridge = Ridge().fit(rows, rows @ numpy.arange(10.0))
    for name in ("model-1", "model-2"):
        (root / name / "model").mkdir()
        joblib.dump(ridge, root / name / "model" / "sklearn_regression_model.pkl")
    iris = load_iris()
    (root / "iris-model" / "models").mkdir(parents=True)
    joblib.dump(
        LogisticRegression(max_iter=500).fit(iris.data, iris.target), root / "iris-model" / "models" / "iris.pkl"
    )
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    (root / "model-1" / "environment").mkdir(exist_ok=True)  # git keeps no empty folder: a clean clone lacks it
    (root / "model-1" / "environment" / "conda.yaml").write_text(
        "name: model-env\nchannels:\n  - conda-forge\ndependencies:\n"
        f"  - python={python}\n  - numpy={numpy.__version__}\n  - pip\n  - scikit-learn={sklearn.__version__}\n"
        f"  - scipy={scipy.__version__}\n  - pip:\n    - azureml-inference-server-http==1.4.1\n"
        f"    - inference-schema[numpy-support]\n    - joblib=={joblib.__version__}\n",
        encoding="utf-8",
    )
    (root / "managed" / "inference-schema" / "env.yml").write_text(
        "name: amlex-infschema\nchannels:\n  - conda-forge\ndependencies:\n"
        f"  - python={python}\n  - scikit-learn={sklearn.__version__}\n  - numpy\n  - pandas\n  - pip:\n"
        "    - joblib\n    - azureml-inference-server-http\n    - inference-schema\n",
        encoding="utf-8",
    )
    return root


def ridge_predictions(root: Path, rows: list[list[float]]) -> list[float]:
    import joblib

    model = joblib.load(root / "model-1" / "model" / "sklearn_regression_model.pkl")
    return [float(v) for v in model.predict(rows)]
