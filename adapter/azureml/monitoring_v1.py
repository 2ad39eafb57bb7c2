"""`from azureml.monitoring import ModelDataCollector` (SDK v1): the collector AKS-era score scripts use.

Served as `azureml.monitoring` and `azureml.monitoring.modeldatacollector` by `adapter.azureml.shim`, always (the
PyPI package cannot work outside AML: see `adapter.azureml.data_collection`, which is where the data goes). Same
constructor, constants, methods and return values as azureml-monitoring 0.1.0a21: `collect` returns the correlation
headers and values for the "inputs" designation (`$aml_request_id` is the request id the client got back) and None
for the others; `add_correlations` appends those values to a list, array or DataFrame as AML's does. Unlike AML's,
collecting is on without `AML_MODEL_DC_STORAGE_ENABLED`, and a call never raises.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import uuid
from typing import Any

from adapter.azureml.data_collection import Sink, describe
from adapter.request_context import current_request_id

__all__ = ["ModelDataCollector"]

#: A package to the import system, so that `azureml.monitoring.modeldatacollector`, the module scripts also import
#: the class from, reaches the shim's finder (which serves this same module under that name).
__path__: list[str] = []

logger = logging.getLogger("adapter.datacollection")

DESIGNATIONS = ("inputs", "predictions", "labels", "signals", "general")
#: What azureml-monitoring writes when there is no request (and so no request id).
NO_REQUEST_ID = "00000000-0000-0000-0000-000000000000"


class ModelDataCollector:
    """Collects model data (inputs, predictions...) of one model and designation."""

    AML_DC_CORRELATION_HEADER = "$aml_dc_correlation_id"
    AML_DC_SCORING_TIMESTAMP_HEADER = "$aml_dc_scoring_timestamp"
    AML_DC_BOUNDARY_HEADER = "$aml_dc_boundary"
    AML_WORKSPACE_HEADER = "$aml_workspace"
    AML_SERVICE_NAME_HEADER = "$aml_service_name"
    AML_MODEL_NAME_HEADER = "$aml_model_name"
    AML_MODEL_VERSION_HEADER = "$aml_model_version"
    AML_REQUEST_ID_HEADER = "$aml_request_id"
    #: The correlation columns, in the order `add_correlations` appends them.
    CORRELATION_HEADERS = (
        AML_DC_CORRELATION_HEADER,
        AML_DC_SCORING_TIMESTAMP_HEADER,
        AML_DC_BOUNDARY_HEADER,
        AML_WORKSPACE_HEADER,
        AML_SERVICE_NAME_HEADER,
        AML_MODEL_NAME_HEADER,
        AML_MODEL_VERSION_HEADER,
        AML_REQUEST_ID_HEADER,
    )

    def __init__(
        self,
        model_name: str,
        designation: str = "default",
        feature_names: list[str] | None = None,
        workspace: str = "default/default/default",
        webservice_name: str = "default",
        model_version: str = "default",
        collection_name: str = "default",
    ) -> None:
        self.model_name = model_name
        self.model_version = model_version
        self.workspace = str(workspace).lower()
        self.service_name = webservice_name
        if webservice_name == "default":
            self.service_name = os.environ.get("SERVICE_NAME") or os.environ.get("WEBSITE_SITE_NAME") or "default"
        self.collection_name = collection_name
        self._feature_names: list[str] | None = None
        if feature_names is not None:
            try:
                self._feature_names = [str(name) for name in feature_names]
            except TypeError:
                logger.warning("feature_names of %r is not a list of names; the rows are collected without", model_name)
        self._correlation_headers: list[str] = []
        self._boundary = 60 if os.environ.get("AML_MODEL_DC_BOUNDARY") == "hour" else 60 * 24
        self._designation = "general" if designation == "default" else designation
        self._enabled = self._designation in DESIGNATIONS
        if not self._enabled:
            # azureml-monitoring prints this and then collects nothing with this object; so do we.
            logger.warning(
                "Incorrect designation value %r for model %r: this collector collects nothing. Supported values: "
                "'default', 'inputs', 'predictions', 'labels', 'signals', 'general'",
                designation,
                model_name,
            )
        self._collection = str(model_name)
        if self._designation in ("signals", "general") and collection_name != "default":
            self._collection += "." + str(collection_name)  # AML's file name for these designations
        else:
            self._collection += "." + self._designation
        self._sink = Sink()

    def collect(self, input_data: Any, user_correlation_id: str = "") -> dict[str, Any] | None:
        """Collect `input_data` (list, numpy array or pandas DataFrame). For "inputs", returns the correlation
        headers and values to pass to other collectors' `add_correlations`; otherwise None."""
        if not self._enabled:
            return None
        correlation: dict[str, Any] | None = None
        correlation_id: str | None
        try:
            if self._designation == "inputs":
                correlation = self._correlation(user_correlation_id)
                correlation_id = correlation[self.AML_DC_CORRELATION_HEADER]
            else:
                correlation_id = self._correlation_id_in(input_data)
            columns = None
            if self._feature_names is not None:
                columns = self._feature_names + self._correlation_headers
        except Exception as ex:  # noqa: BLE001 - a collector never fails the script
            logger.warning("Data collection for %r skipped its data: %s", self._collection, describe(ex))
            return correlation
        fields = {"designation": self._designation, "model": self.model_name, "model_version": self.model_version}
        self._sink.collect(self._collection, input_data, correlation_id, fields, columns)
        return correlation

    def add_correlations(self, input_data: Any, correlations: dict[str, Any] | None) -> Any:
        """`input_data` with the correlation values `collect` returned appended as columns (a list gets them at
        its end; an array or DataFrame gets one column each, repeated on every row)."""
        if correlations is None:
            return input_data
        try:
            values = [correlations[name] for name in self.CORRELATION_HEADERS]
            self._correlation_headers = list(self.CORRELATION_HEADERS)
            if isinstance(input_data, list):
                return input_data + values
            numpy = sys.modules.get("numpy")
            if numpy is not None and isinstance(input_data, numpy.ndarray):
                rows = input_data if input_data.ndim > 1 else numpy.array([input_data])
                extra = numpy.repeat(numpy.array([values], dtype=object), rows.shape[0], axis=0)
                return numpy.append(rows, extra, axis=1)
            pandas = sys.modules.get("pandas")
            if pandas is not None and isinstance(input_data, pandas.DataFrame):
                frame = input_data.copy(deep=False)
                for name, value in zip(self.CORRELATION_HEADERS, values, strict=True):
                    frame.insert(len(frame.columns), name, value)
                return frame
        except Exception as ex:  # noqa: BLE001
            logger.warning("add_correlations left the data as it was: %s", describe(ex))
            return input_data
        logger.warning(
            "add_correlations left the data as it was: input data must be a list, numpy array or pandas DataFrame, "
            "not %s",
            type(input_data).__name__,
        )
        return input_data

    def _correlation(self, user_correlation_id: str) -> dict[str, Any]:
        generated = str(uuid.uuid4())
        return {
            self.AML_DC_SCORING_TIMESTAMP_HEADER: datetime.datetime.now(datetime.timezone.utc)
            .replace(tzinfo=None)
            .isoformat(),
            self.AML_REQUEST_ID_HEADER: current_request_id() or NO_REQUEST_ID,
            self.AML_DC_CORRELATION_HEADER: f"{user_correlation_id}-{generated}" if user_correlation_id else generated,
            self.AML_DC_BOUNDARY_HEADER: self._boundary,
            self.AML_WORKSPACE_HEADER: self.workspace,
            self.AML_SERVICE_NAME_HEADER: self.service_name,
            self.AML_MODEL_NAME_HEADER: self.model_name,
            self.AML_MODEL_VERSION_HEADER: self.model_version,
        }

    def _correlation_id_in(self, data: Any) -> str | None:
        """The correlation id `add_correlations` put into `data`, if it did: the record then carries it."""
        pandas = sys.modules.get("pandas")
        if pandas is not None and isinstance(data, pandas.DataFrame):
            if self.AML_DC_CORRELATION_HEADER in data.columns and len(data):
                return str(data[self.AML_DC_CORRELATION_HEADER].iloc[0])
            return None
        if not self._correlation_headers:
            return None
        position = -len(self.CORRELATION_HEADERS)
        numpy = sys.modules.get("numpy")
        if isinstance(data, list) and len(data) >= len(self.CORRELATION_HEADERS):
            return str(data[position])
        if numpy is not None and isinstance(data, numpy.ndarray) and data.ndim == 2 and data.shape[0]:
            if data.shape[1] >= len(self.CORRELATION_HEADERS):
                return str(data[0][position])
        return None
