"""`python -m adapter`: import an AML deployment, check it, serve it locally; models, swagger, powerquery."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from adapter.paths import FUNCTION_APP_ROOT
from adapter.settings import ConfigError
from adapter.tools import models_cli
from adapter.tools.check import cli as check
from adapter.tools.importer import cli as importer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve function_app.py's HTTP functions locally, like func start")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=7071, help="port (default 7071, as func start)")
    swagger = commands.add_parser("swagger", help="write the /swagger.json document without serving (no init())")
    swagger.add_argument("--version", default="2", help="document version: 2 (default), 2.0, 3, 3.0 or 3.1")
    swagger.add_argument("--out", type=Path, help="file to write (default: standard output)")
    powerquery = commands.add_parser("powerquery", help="write a Power Query (M) function that scores a Power BI table")
    powerquery.add_argument("--out", type=Path, help="file to write (default: standard output)")
    powerquery.add_argument("--url", help="the scoring URL to write in (default: the function takes a Url parameter)")
    powerquery.add_argument("--table", help="the table to send when the schema has several (default: the first)")
    powerquery.add_argument(
        "--columns", help="the table's columns when the script has no schema: name:type,... (types number, text...)"
    )
    models_cli.register(commands)
    check.register(commands)
    importer.register(commands)
    args = parser.parse_args(argv)

    try:
        return _run(args)
    except ConfigError as ex:  # a bad setting or local.settings.json: say which, no traceback
        print(f"error: {ex}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`import ... | head`): what the command did is done (import prints its report only
        # after writing), only its output is cut. Quietly, as `cat` does, not with a traceback; stdout points at
        # devnull so the interpreter's own flush at exit cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "models":
        return models_cli.main(args)
    if args.command == "check":
        return check.main(args)
    if args.command == "import":
        return importer.main(args)
    if args.command == "powerquery":  # before logging is set up: the M text or a one-line error, nothing else
        from adapter.tools import powerquery_cli

        return powerquery_cli.write(args.out, args.url, args.table, args.columns)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        from adapter.hosting.server import serve as run_server

        run_server(FUNCTION_APP_ROOT, args.host, args.port)
        return 0
    from adapter.tools.swagger_cli import write

    return write(args.version, args.out)


if __name__ == "__main__":
    sys.exit(main())
