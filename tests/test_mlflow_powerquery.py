"""Power BI for an MLflow model without a score.py (AML's no-code deployments, docs/mlflow.md): the function the app
serves at `GET /powerquery.pq`, run by the M evaluator (tests/powerquery) against `adapter serve`, for Azure's two
no-code examples (tests/mlflow_models.py: scikit-learn on the diabetes columns, a LightGBM booster on the iris
columns). 2,000 shuffled rows of the models' own training data, 2 of them bad: every other row gets the prediction
of MLflow's `predict()` for it, in its place, equal to scoring that row alone (the iris model's list of class
probabilities per row as one number column per class, named by the output signature); the bad rows get error cells
with the service's answer for them, found by splitting their batch (docs/powerbi.md)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow_models
import numpy as np
import pandas as pd
import pytest
import requests
from pq_evaluator import MError, apply_typed, traffic
from targets import Serve

ROWS = 2_000
BATCHES = 2  # the function's default batch is 1,000 rows: a column signature is narrow
#: The service's answer to a row the model refuses: AML's generic 500, and its reason (SCORING_ERROR_DETAILS).
REFUSED = "the scoring service answered HTTP 500: An unexpected error occurred in scoring script."


@dataclass(frozen=True)
class Model:
    build: Callable[[Path], None]
    columns: list[str]
    #: The rows the model was trained on (scikit-learn's dataset of its columns).
    training: Callable[[], np.ndarray]
    #: 0-based position -> (column, value put there, what the error cell says about it).
    bad: dict[int, tuple[str, Any, str]]
    #: 0-based position -> column left empty (null) in a row the model still scores.
    missing: dict[int, str]
    #: The result columns: `Results` for one value per row, else one per output column the signature names (the
    #: positions of each row's list).
    results: list[str]


# What each model refuses was found by asking the server: the signature casts a text cell to a double and fails
# naming the column; a null becomes NaN, which scikit-learn's LinearRegression refuses and LightGBM scores as missing.
MODELS = {
    "diabetes": Model(
        mlflow_models.diabetes,
        mlflow_models.DIABETES,
        mlflow_models.diabetes_data,
        bad={
            137: ("bmi", "n/a", "could not convert string to float: 'n/a': Error while type casting for column 'bmi'"),
            1_642: ("s5", None, "Input X contains NaN"),
        },
        missing={},
        results=["Results"],
    ),
    "iris_lightgbm": Model(
        mlflow_models.iris_lightgbm,
        mlflow_models.IRIS,
        mlflow_models.iris_data,
        bad={
            137: ("petal_length", "wide", "could not convert string to float: 'wide'"),
            1_642: ("sepal_width", "", "could not convert string to float: ''"),
        },
        missing={500: "petal_width"},
        results=["0", "1", "2"],
    ),
}


def source_table(model: Model, seed: int = 25) -> tuple[list[str], list[list[Any]]]:
    """`id` (the training row's index: a column the function does not send) and the model's columns, ROWS rows of
    the training data in a seeded shuffled order, with the bad and the missing cells put in."""
    training = model.training()
    ids = [i % len(training) for i in range(ROWS)]
    random.Random(seed).shuffle(ids)
    rows: list[list[Any]] = [[i, *map(float, training[i])] for i in ids]
    for position, (column, value, _) in model.bad.items():
        rows[position][1 + model.columns.index(column)] = value
    for position, column in model.missing.items():
        rows[position][1 + model.columns.index(column)] = None
    return ["id", *model.columns], rows


@pytest.fixture(params=list(MODELS))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Model, Path, Serve]]:
    """`adapter serve` for an app folder without a score.py, AZUREML_MODEL_DIR and MLFLOW_MODEL_FOLDER naming the
    model (as tests/test_mlflow.py serves them); the model's refusals carry their reason."""
    name = request.param
    model = MODELS[name]
    models = tmp_path / "models"
    model.build(models / name)
    app = tmp_path / "app"
    app.mkdir()
    env = {
        "AML_APP_ROOT": str(app),
        "AZUREML_MODEL_DIR": str(models),
        "MLFLOW_MODEL_FOLDER": name,
        "SCORING_ERROR_DETAILS": "true",
    }
    with Serve(env, tmp_path / "serve.log", clean=True) as server:
        yield model, models / name, server


def alone(server: Serve, columns: list[str], cells: list[Any]) -> tuple[int, Any]:
    """What /score answers for one row, in AML's MLflow request shape."""
    body = {"input_data": {"columns": columns, "data": [cells]}}
    reply = requests.post(server.base + "/score", json=body, timeout=60)
    return reply.status_code, reply.json()


def test_the_served_function_scores_2000_shuffled_rows_in_place_and_names_the_2_bad_ones(
    served: tuple[Model, Path, Serve],
) -> None:
    import mlflow.pyfunc

    model, path, server = served
    function = requests.get(server.base + "/powerquery.pq", timeout=30)
    assert function.status_code == 200
    columns, table = source_table(model)
    sent_before = traffic()
    result_columns, types, scored = apply_typed(function.text, columns, table)
    requests_sent = traffic() - sent_before

    assert result_columns == [*columns, *model.results]
    assert types[len(columns) :] == ["number"] * len(model.results)
    width = len(columns)
    assert [row[:width] for row in scored] == table  # every row, unchanged, in its place
    good = [p for p in range(ROWS) if p not in model.bad]
    frame = pd.DataFrame([table[p][1:] for p in good], columns=model.columns, dtype=float)
    predicted = dict(zip(good, np.asarray(mlflow.pyfunc.load_model(str(path)).predict(frame)).tolist(), strict=True))
    # A list per row (the class probabilities) is its positions' columns; one value, the Results column.
    results = {p: row[width:] if len(model.results) > 1 else row[width] for p, row in enumerate(scored)}
    # Next rows mostly get different predictions, not in sorted order: results sorted, batched out of order or
    # shifted by a row could not match them.
    in_order = [json.dumps(predicted[p]) for p in good]
    changes = sum(a != b for a, b in zip(in_order, in_order[1:], strict=False))
    assert changes > len(good) // 2 and in_order != sorted(in_order)
    for position in good:
        assert results[position] == pytest.approx(predicted[position], rel=1e-9), position

    for position, (column, value, reason) in model.bad.items():
        status, answer = alone(server, model.columns, table[position][1:])
        assert status == 500 and reason in answer["message"], (column, value, answer)
        for cell in scored[position][width:]:
            assert isinstance(cell, MError), (position, cell)
            assert cell.message == f"Row {position + 1}: the scoring service answered HTTP 500: {answer['message']}"
            assert cell.message.startswith(f"Row {position + 1}: {REFUSED}")
    # The batches, and for each bad row its batch split in halves down to it: about 2 log2(1000) requests more.
    assert BATCHES < requests_sent <= BATCHES + len(model.bad) * 2 * 10, requests_sent

    # Each result is what scoring its row alone answers (a row with a missing value too, where the model takes it).
    for position in [*random.Random(ROWS).sample(good, 20), *model.missing]:
        status, answer = alone(server, model.columns, table[position][1:])
        assert status == 200 and len(answer) == 1
        assert results[position] == pytest.approx(answer[0], rel=1e-9), position
