"""`python -m adapter import`: an AML deployment file turned into this function app, one module per step."""
