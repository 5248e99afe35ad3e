"""`python -m syncer_standins.sui --registry shop-dev=ADMIN --publisher shop-dev=ADDRESS
--fund ADDRESS`: run the Sui GraphQL stand-in in the foreground, set it up, print one JSON
line (`url`, `package`, `registries`: channel → Registry ID) and serve until SIGTERM or
SIGINT.
"""

from __future__ import annotations

import argparse
import json
import sys

from syncer_standins._http import serve_until_signalled
from syncer_standins.sui import SuiGraphQLServer

__all__ = ["main"]


def _pair(text: str) -> tuple[str, str]:
    name, sep, address = text.partition("=")
    if not sep or not name or not address:
        raise argparse.ArgumentTypeError(f"expected NAME=ADDRESS, got {text!r}")
    return name, address


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m syncer_standins.sui",
                                     description="Run the Sui GraphQL stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--registry", type=_pair, action="append", default=[],
                        metavar="CHANNEL=ADMIN", help="a Registry and its admin's AdminCap")
    parser.add_argument("--publisher", type=_pair, action="append", default=[],
                        metavar="CHANNEL=ADDRESS", help="a listed PublisherCap for ADDRESS")
    parser.add_argument("--fund", action="append", default=[], metavar="ADDRESS",
                        help="a SUI coin for ADDRESS, to pay for gas")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def _set_up(server: SuiGraphQLServer, args: argparse.Namespace) -> dict[str, str]:
    registries = {name: server.create_registry(name, admin)[0] for name, admin in args.registry}
    for name, address in args.publisher:
        server.mint_publisher_cap(registries[name], address)
    for address in args.fund:
        server.fund(address)
    return registries


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    server = SuiGraphQLServer(args.host, args.port)

    def ready() -> None:
        registries = _set_up(server, args)
        print(json.dumps({"url": server.url, "package": server.package,
                          "registries": registries}), flush=True)

    return serve_until_signalled(server, verbose=args.verbose, ready=ready)

if __name__ == "__main__":
    sys.exit(main())
