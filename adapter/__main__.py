"""`python -m adapter`: the command line (`serve` today; swagger, check and models build on it)."""

from __future__ import annotations

import argparse
import logging
import sys

from .settings import FUNCTION_APP_ROOT, ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve function_app.py's HTTP functions locally, like func start")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=7071, help="port (default 7071, as func start)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        from .local_host import serve as run_server

        try:
            run_server(FUNCTION_APP_ROOT, args.host, args.port)
        except ConfigError as ex:
            print(f"error: {ex}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
