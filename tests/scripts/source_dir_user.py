"""Imports helper_lib, which exists only in srcdir/ (importable via AZUREML_SOURCE_DIRECTORY=srcdir)."""
import helper_lib


def init():
    pass


def run(data):
    return helper_lib.transform(data)
