"""Option groups shared by the commands, and what they resolve to.

A handler takes the parsed `argparse.Namespace` and returns the exit code: 0 ok, 1 changes
or findings, 2 error (raised as a `SyncerError`, which the entry point prints in one line).

Building the parser imports nothing heavy: the command modules and this one import the
domain modules they need inside their handlers, so that `syncer --help` and each command
load only what they use (the cluster client for commands that reach a cluster, the Sui
client only for Sui profiles). tests/unit/test_cli_imports.py checks it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from syncer.config import CONFIG_FILE, Home, RepoConfig
from syncer.errors import ConfigError

if TYPE_CHECKING:
    from syncer.backends import Backends
    from syncer.keys import Keypair
    from syncer.ledger import Ledger
    from syncer.model import Release
    from syncer.reconcile import Loaded, Reconciler

__all__ = ["Handler", "Subparsers", "backends", "channel_arg", "channels", "cluster_args",
           "global_args", "home", "load", "pick_channel", "pick_release", "reconciler",
           "release_args", "repo_arg"]

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler = Callable[[argparse.Namespace], int]


# --- option groups --------------------------------------------------------------------------

def global_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", type=Path, help="local state: keys, blob store, ledger "
                        "(default $SYNCER_HOME or ~/.syncer)")
    parser.add_argument("--profile", help="backends to use: local (embedded, the default), "
                        "testnet, mainnet, or one defined in syncer.yaml or "
                        "$SYNCER_HOME/profiles.yaml (default $SYNCER_PROFILE, else "
                        "syncer.yaml's profile, else local)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="log line format on stderr (json for in-cluster use)")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an error (the exit code stays 2)")


def repo_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, default=Path("."), help="the app repository")


def channel_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", default=os.environ.get("SYNCER_CHANNEL"),
                        help="the channel (default $SYNCER_CHANNEL, else the only channel "
                        "of ./syncer.yaml or of the ledger)")


def cluster_args(parser: argparse.ArgumentParser, *, inventory: bool = True) -> None:
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default $KUBECONFIG, "
                        "~/.kube/config, or the in-cluster service account)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    if inventory:
        parser.add_argument("--inventory-namespace", default="syncer-system",
                            help="namespace of the inventory ConfigMaps (default "
                            "syncer-system)")
        parser.add_argument("--workers", type=_workers, default=8, metavar="N",
                            help="API requests in flight at once for dry runs, applies and "
                            "prunes (default 8; 1 sends them one by one)")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 64")
    return value


def release_args(parser: argparse.ArgumentParser) -> None:
    channel_arg(parser)
    parser.add_argument("--seq", type=int, help="a release seq (default: the channel's head)")
    cluster_args(parser)


# --- what they resolve to -------------------------------------------------------------------

def home(args: argparse.Namespace) -> Home:
    return Home(args.home) if args.home else Home()


def backends(args: argparse.Namespace, *, repo: RepoConfig | None = None) -> Backends:
    """The backends of the chosen profile, reading profiles from `repo` (default:
    ./syncer.yaml when the command runs in an app repository)."""
    from syncer.backends import open_backends, select_profile, work_tree_config  # noqa: PLC0415

    where = home(args)
    config = repo or work_tree_config()
    return open_backends(select_profile(args.profile, home=where, repo=config), home=where)


def publishing(args: argparse.Namespace, *, config: Path = Path(CONFIG_FILE)
               ) -> tuple[Keypair, Backends]:
    """The publisher key and the backends of the chosen profile (profiles also read from
    the repository's `config`, default ./syncer.yaml), blobs stored on behalf of that key."""
    from syncer.backends import (  # noqa: PLC0415
        open_backends,
        publisher_key,
        select_profile,
        work_tree_config,
    )

    where = home(args)
    profile = select_profile(args.profile, home=where, repo=work_tree_config(config))
    key = publisher_key(profile, home=where)
    return key, open_backends(profile, home=where, blob_owner=key.address)


def load(args: argparse.Namespace, release: Release, backends: Backends) -> Loaded:
    """The release fetched, verified and rendered, or taken from the rendered-release cache
    under $SYNCER_HOME when this machine already did that work (see `releasecache`)."""
    from syncer.releasecache import ReleaseCache, load_cached  # noqa: PLC0415

    return load_cached(release, blobs=backends.blobs, cache=ReleaseCache.under(home(args)))


def pick_release(args: argparse.Namespace, ledger: Ledger) -> Release:
    """Release --seq of the channel, else its head; ConfigError before the first."""
    channel = pick_channel(args.channel, ledger)
    if args.seq is not None:
        return ledger.release(channel, args.seq)
    head = ledger.head(channel)
    if head is None:
        raise ConfigError("has no release yet: publish one first", where=f"channel {channel}")
    return head


def pick_channel(name: str | None, ledger: Ledger) -> str:
    """The named channel, else the only one of ./syncer.yaml, else the ledger's only one."""
    from syncer.backends import work_tree_config  # noqa: PLC0415

    if name:
        return name
    local = work_tree_config()
    if local is not None:
        return local.channel(None).name
    names = ledger.channels()
    if len(names) == 1:
        return names[0]
    raise ConfigError("name a channel with --channel (the ledger has "
                      f"{', '.join(names) or 'no channels'})")


def channels(named: list[str], ledger: Ledger) -> list[str]:
    """Every channel named by a repeatable --channel, else the one `pick_channel` finds."""
    return named or [pick_channel(os.environ.get("SYNCER_CHANNEL"), ledger)]


def reconciler(args: argparse.Namespace, *, dry_run: bool) -> Reconciler:
    """A reconciler on the cluster that --kubeconfig and --context name."""
    from syncer.agekeys import from_environment  # noqa: PLC0415
    from syncer.cluster import connect  # noqa: PLC0415
    from syncer.reconcile import Reconciler, SyncOptions  # noqa: PLC0415

    cluster = connect(kubeconfig=args.kubeconfig, context=args.context,
                      connections=args.workers + 2)  # the workers, the lock, a spare
    options = SyncOptions(dry_run=dry_run, allow_empty=args.allow_empty,
                          inventory_namespace=args.inventory_namespace, workers=args.workers,
                          keys=partial(from_environment, os.environ, home=home(args).root))
    return Reconciler(cluster, options=options)
