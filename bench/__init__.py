"""Benchmarks: our adapter and azmlinfsrv 1.5.1 side by side, on the same machine, in one run (`python -m bench`)."""
