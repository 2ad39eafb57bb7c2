"""`python -m adapter check`: what Azure will do with this app, done locally first, one module per step."""
