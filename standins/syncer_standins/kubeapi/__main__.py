"""`python -m syncer_standins.kubeapi --port 0 --kubeconfig PATH`: run the stand-in in the
foreground, write a kubeconfig pointing at it, print one line saying where it listens, and
serve until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from syncer_standins._http import serve_until_signalled
from syncer_standins.kubeapi import KubeApiServer

__all__ = ["main"]



def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m syncer_standins.kubeapi",
                                     description="Run the kube-apiserver stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig here")
    parser.add_argument("--namespace", default="default", help="the kubeconfig's namespace")
    parser.add_argument("--deployments-unavailable", action="store_true",
                        help="report Deployments as a cluster without nodes would")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    server = KubeApiServer(args.host, args.port,
                           deployments_ready=not args.deployments_unavailable)

    def ready() -> None:
        if args.kubeconfig is not None:
            server.write_kubeconfig(args.kubeconfig, namespace=args.namespace)
        print(f"kube-apiserver stand-in listening on {server.url}", flush=True)

    return serve_until_signalled(server, verbose=args.verbose, ready=ready)

if __name__ == "__main__":
    sys.exit(main())
