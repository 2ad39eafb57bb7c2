"""A Power Query (M) evaluator for the subset the generated scoring function uses, so tests execute that function
(not only parse it). `powerquery.run.apply()` is the Python API; `python -m tests.powerquery.run` the CLI."""
