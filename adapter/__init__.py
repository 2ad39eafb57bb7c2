"""Serve an unchanged Azure ML entry script (`score.py`) from Azure Functions, answer for answer like azmlinfsrv."""
