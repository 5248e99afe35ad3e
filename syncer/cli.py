"""The `syncer` command line: thin commands over publish, reconcile and the backends.

Exit codes for every command: 0 ok, 1 changes or findings (`diff`), 2 error. An error is one
line on stderr naming the file, object or field; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from syncer import __version__, doctor, hooks, keys, output
from syncer.backends import (
    Backends,
    open_backends,
    publisher_key,
    select_profile,
    work_tree_config,
)
from syncer.blobstore import BlobStore
from syncer.bundle import unpack
from syncer.cluster import connect
from syncer.config import CONFIG_FILE, Home, RepoConfig, parse_config
from syncer.errors import BlobIntegrityError, BlobStoreError, ConfigError, GitError, SyncerError
from syncer.gitsource import open_repo
from syncer.ledger import Ledger
from syncer.ledger.sui import SuiLedger
from syncer.logs import configure_logging
from syncer.model import Release
from syncer.profiles import Profile, remember_registry
from syncer.publish import PublishOptions, publish, rebuild
from syncer.reconcile import Reconciler, SyncOptions, load

__all__ = ["main"]

log = logging.getLogger(__name__)
Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose, fmt=args.log_format)
    try:
        handler: Handler = args.handler
        return handler(args)
    except SyncerError as e:
        if args.debug:
            raise
        print(f"syncer: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncer", description="GitOps for Kubernetes: releases recorded on a ledger "
        "(Sui, or the embedded local ledger), bundles stored by blob ID (Walrus, or the "
        "embedded local store), applied to a cluster with server-side apply.",
        epilog="Exit codes: 0 ok, 1 changes or findings (diff), 2 error.")
    parser.add_argument("--version", action="version", version=f"syncer {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_init_parser, _publish_parser, _sync_parser, _diff_parser, _history_parser,
                _show_parser, _doctor_parser, hooks.add_parser):
        add(sub)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", type=Path, help="local state: keys, blob store, ledger "
                        "(default $SYNCER_HOME or ~/.syncer)")
    parser.add_argument("--profile", help="backends to use: local (embedded, the default), "
                        "testnet, mainnet, or one defined in syncer.yaml or "
                        "$SYNCER_HOME/profiles.yaml (default $SYNCER_PROFILE, else "
                        "syncer.yaml's profile, else local)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="log line format on stderr (json for in-cluster use)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _channel_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", default=os.environ.get("SYNCER_CHANNEL"),
                        help="the channel (default $SYNCER_CHANNEL, else the only channel "
                        "of ./syncer.yaml or of the ledger)")


def _cluster_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default $KUBECONFIG, "
                        "~/.kube/config, or the in-cluster service account)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--inventory-namespace", default="syncer-system",
                        help="namespace of the inventory ConfigMaps (default syncer-system)")


def _release_args(parser: argparse.ArgumentParser) -> None:
    _channel_arg(parser)
    parser.add_argument("--seq", type=int, help="a release seq (default: the channel's head)")
    _cluster_args(parser)


# --- init -----------------------------------------------------------------------------------

def _init_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="start a repository: syncer.yaml, a key, channels",
                       description="Write a commented starter syncer.yaml when the repository "
                       "has none, create the publisher key under $SYNCER_HOME/keys when there "
                       "is none, and register every channel of syncer.yaml in the local ledger "
                       "with that key as admin and publisher.")
    p.add_argument("--repo", type=Path, default=Path("."), help="the app repository")
    p.add_argument("--channel", help="channel name for a new syncer.yaml (default: the "
                   "directory name + '-dev')")
    p.add_argument("--namespace", help="namespace for a new syncer.yaml (default: the channel)")
    p.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    home = _home(args)
    repo_dir = Path(open_repo(args.repo).working_dir)
    config_path = repo_dir / CONFIG_FILE
    if not config_path.exists():
        channel = args.channel or _default_channel(repo_dir)
        config_path.write_text(_starter(channel, args.namespace or channel.lower()))
        print(f"wrote {config_path}")
    config = parse_config(config_path.read_bytes(), where=str(config_path))
    key = _ensure_key(home)
    backends = _backends(args, repo=config)
    known = set(backends.ledger.channels())
    for name in sorted(config.channels):
        if name in known:
            print(f"channel {name}: already registered")
            continue
        backends.ledger.register_channel(name, admin=key, publishers=[key.public_key])
        print(f"channel {name}: registered (admin and publisher {key.address})")
        if isinstance(backends.ledger, SuiLedger):
            _remember(home, backends, name)
    return 0


def _remember(home: Home, backends: Backends, channel: str) -> None:
    """On Sui a new channel is a new Registry object: keep its ID in $SYNCER_HOME."""
    assert isinstance(backends.ledger, SuiLedger)
    registry = backends.ledger.registry_id(channel)
    path = home.root / "profiles.yaml"
    remember_registry(path, profile=backends.profile.name, channel=channel, registry_id=registry)
    print(f"channel {channel}: Registry {registry} recorded in {path} "
          f"(profiles.{backends.profile.name}.ledger.registries)")


def _default_channel(repo_dir: Path) -> str:
    base = "".join(c if c.isalnum() else "-" for c in repo_dir.name.lower()).strip("-")
    return f"{base[:50] or 'app'}-dev"


def _starter(channel: str, namespace: str) -> str:
    return f"""\
# syncer.yaml: what `syncer publish` bundles from each commit, and where each channel deploys.
# It is always part of the bundle, so the syncer in the cluster reads this same file.
version: 1

# Paths bundled from the commit (syncer.yaml itself is always included).
sources: [templates, values, policies]

# Where manifests live: *.yaml files are taken as they are, *.j2 files are Jinja2 templates
# (sandboxed, strict: an undefined value is an error); files starting with _ are partials.
templates: templates

channels:
  # One stream of releases for one target. Its name labels every object it applies.
  {channel}:
    branch: main              # a push of this branch publishes to this channel
    namespace: {namespace}    # for objects that name no namespace
    values: []                # values files, merged in order; templates see `values`
"""


def _ensure_key(home: Home) -> keys.Keypair:
    if home.key_file.exists():
        return keys.load(home.key_file)
    key = keys.generate()
    keys.save(key, home.key_file)
    print(f"created publisher key {home.key_file} (address {key.address})")
    return key


# --- publish --------------------------------------------------------------------------------

def _publish_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("publish", help="publish a commit as a release",
                       description="Bundle the deploy sources of a commit (read from the "
                       "commit, not the work tree), check that every target channel renders "
                       "and keeps the rules, store the bundle by its blob ID and record one "
                       "release per channel. Publishing the commit that is already a "
                       "channel's head does nothing.")
    p.add_argument("--repo", type=Path, default=Path("."), help="the app repository")
    p.add_argument("--commit", default="HEAD", help="the commit to publish (default HEAD)")
    p.add_argument("--channel", action="append", default=[],
                   help="a channel to publish to (repeatable; default: the channels whose "
                   "branch is the current branch, or the only channel)")
    p.add_argument("--branch", help="publish to the channels following this branch")
    p.add_argument("--allow-empty", action="store_true",
                   help="publish even if a channel renders no objects")
    p.add_argument("--refresh", type=int, metavar="SEQ",
                   help="instead of publishing, store release SEQ's bundle again (same bytes, "
                   "same blob ID) so that Walrus keeps it for the configured epochs; a blob "
                   "Walrus no longer serves is rebuilt from its commit in --repo")
    p.set_defaults(handler=_publish)


def _publish(args: argparse.Namespace) -> int:
    if args.refresh is not None:
        return _refresh(args)
    home = _home(args)
    repo = open_repo(args.repo)
    branch = args.branch
    if branch is None and not args.channel and not repo.head.is_detached:
        branch = repo.active_branch.name
    options = PublishOptions(rev=args.commit, channels=tuple(args.channel), branch=branch,
                             allow_empty=args.allow_empty)
    profile = select_profile(args.profile, home=home,
                             repo=work_tree_config(Path(repo.working_dir) / CONFIG_FILE))
    key = publisher_key(profile, home=home)
    backends = open_backends(profile, home=home, blob_owner=key.address)
    results = publish(repo, key=key, blobs=backends.blobs, ledger=backends.ledger,
                      options=options)
    for result in results:
        rel = result.release
        if result.created:
            print(f"published {output.release_line(rel)}")
        else:
            print(f"{rel.channel}: commit {rel.commit[:12]} is already release {rel.seq} "
                  "(nothing to do)")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    home = _home(args)
    profile = select_profile(args.profile, home=home,
                             repo=work_tree_config(args.repo / CONFIG_FILE))
    backends = open_backends(profile, home=home, blob_owner=_blob_owner(profile, home))
    named = args.channel[0] if args.channel else os.environ.get("SYNCER_CHANNEL")
    channel = _pick_channel(named, backends.ledger)
    release = backends.ledger.release(channel, args.refresh)
    try:
        data, how = backends.blobs.get(release.blob_id, sha256=release.sha256), ""
    except BlobStoreError as e:
        data, how = _rebuild(args.repo, release, unreadable=e), " (rebuilt from its commit)"
    stored = backends.blobs.refresh(data, blob_id=release.blob_id)
    until = f" until epoch {stored.end_epoch}" if stored.end_epoch is not None else ""
    print(f"refreshed blob {stored.blob_id} of {output.release_line(release)}{until}{how}")
    return 0


def _blob_owner(profile: Profile, home: Home) -> str | None:
    """Who receives a refresh's new Blob object on Walrus: the publisher key, if it loads."""
    if profile.setting("blobstore", "kind") != "walrus":
        return None
    try:
        return publisher_key(profile, home=home).address
    except ConfigError as e:
        log.warning("no publisher key (%s): a new Blob object stays with the Walrus publisher",
                    e)
        return None


def _rebuild(path: Path, release: Release, *, unreadable: BlobStoreError) -> bytes:
    """The release's bundle built again from its commit in the repository at `path`."""
    log.warning("the blob cannot be read; rebuilding it from its commit",
                extra={"blob_id": release.blob_id, "seq": release.seq, "error": str(unreadable)})
    try:
        return rebuild(open_repo(path), release)
    except GitError as e:
        raise BlobStoreError(f"{unreadable.message}; and it cannot be rebuilt here ({e}): run "
                             f"this in a clone holding commit {release.commit[:12]}",
                             where=unreadable.where) from e
    except BlobIntegrityError as e:
        raise BlobIntegrityError(f"commit {release.commit[:12]} builds other bytes than the "
                                 f"release records ({e.message})", where=e.where) from e


# --- sync and diff --------------------------------------------------------------------------

def _sync_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sync", help="apply a release to the cluster once",
                       description="One reconcile: read the release from the ledger, fetch and "
                       "verify its bundle, render, check the rules, compare with the live "
                       "objects of the channel, apply what changed with server-side apply "
                       "(Namespaces and CRDs first), prune what the release dropped, and "
                       "record the inventory. Every change is dry-run on the server before "
                       "anything is written.")
    _release_args(p)
    p.add_argument("--dry-run", action="store_true", help="plan only; change nothing")
    p.add_argument("--allow-empty", action="store_true",
                   help="allow a release with no objects to prune everything")
    p.set_defaults(handler=_sync)


def _diff_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("diff", help="show what a sync would change, as unified diffs",
                       description="Compare a release (default: the head) with the live "
                       "cluster and print a unified diff per object, as `kubectl diff` does: "
                       "the live object against what the API server would make of the "
                       "release's object (server-side dry run). Secret values are masked. "
                       "Exit 0 when there is no difference, 1 when there is, 2 on error.")
    _release_args(p)
    p.add_argument("--allow-empty", action="store_true",
                   help="show a release with no objects pruning everything")
    p.set_defaults(handler=_diff)


def _sync(args: argparse.Namespace) -> int:
    backends = _backends(args)
    release = _pick_release(args, backends.ledger)
    loaded = load(release, blobs=backends.blobs)
    reconciler = _reconciler(args, dry_run=args.dry_run)
    observed = reconciler.observe(loaded)
    print(output.release_line(release))
    result = reconciler.sync(observed)
    for line in output.change_lines(observed.changes, dry_run=args.dry_run):
        print(line)
    print(output.summary(result.observed.changes, dry_run=args.dry_run))
    return 0


def _diff(args: argparse.Namespace) -> int:
    backends = _backends(args)
    release = _pick_release(args, backends.ledger)
    loaded = load(release, blobs=backends.blobs)
    reconciler = _reconciler(args, dry_run=True)
    diffs = reconciler.diff(reconciler.observe(loaded))
    for item in diffs:
        sys.stdout.write(item.text)
    return 1 if any(d.text for d in diffs) else 0


def _reconciler(args: argparse.Namespace, *, dry_run: bool) -> Reconciler:
    cluster = connect(kubeconfig=args.kubeconfig, context=args.context)
    options = SyncOptions(dry_run=dry_run, allow_empty=args.allow_empty,
                          inventory_namespace=args.inventory_namespace)
    return Reconciler(cluster, options=options)


# --- history and show -----------------------------------------------------------------------

def _history_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("history", help="list a channel's releases",
                       description="Every release of the channel, oldest first: seq, time, "
                       "commit, the commit's author (from the verified bundle), publisher and "
                       "blob ID. The ledger's signatures and hash chain are verified; an "
                       "edited or removed entry is an error naming its seq.")
    _channel_arg(p)
    p.set_defaults(handler=_history)


def _history(args: argparse.Namespace) -> int:
    backends = _backends(args)
    releases = backends.ledger.history(_pick_channel(args.channel, backends.ledger))
    rows = [_history_row(r, backends.blobs) for r in releases]
    for line in output.history_table(rows):
        print(line)
    return 0


def _history_row(release: Release, blobs: BlobStore) -> output.HistoryRow:
    try:
        data = blobs.get(release.blob_id, sha256=release.sha256)
        return output.HistoryRow(release, unpack(data).manifest)
    except SyncerError as e:
        log.warning("bundle unavailable", extra={"seq": release.seq, "error": str(e)})
        return output.HistoryRow(release, None, problem=e.message)


def _show_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help="print the manifests a release renders to",
                       description="Fetch and verify the bundle of release SEQ, render it for "
                       "its channel, and print the objects as YAML (before namespaces, labels "
                       "and annotations are added at sync).")
    p.add_argument("seq", type=int, help="the release seq")
    _channel_arg(p)
    p.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    backends = _backends(args)
    release = backends.ledger.release(_pick_channel(args.channel, backends.ledger), args.seq)
    loaded = load(release, blobs=backends.blobs)
    print(f"# {output.release_line(release)}")
    sys.stdout.write(output.manifests(loaded.objects))
    return 0


# --- doctor ---------------------------------------------------------------------------------

def _doctor_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check that the profile's backends and key work",
                       description="Check, without writing anything, that the publisher key "
                       "loads and signs, that the ledger answers and every channel's history "
                       "verifies, that each head release's bundle can be fetched and verifies, "
                       "that Walrus keeps it for longer than blobstore.expiry_warning_days "
                       "(read from Sui), and with --cluster that the Kubernetes API answers. "
                       "Exit 0 when everything is fine, 1 when there are warnings or errors.")
    p.add_argument("--cluster", action="store_true", help="also check the cluster")
    _cluster_args(p)
    p.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    home = _home(args)
    backends = _backends(args)
    cluster = connect(kubeconfig=args.kubeconfig, context=args.context) if args.cluster \
        else None
    findings = doctor.check_all(
        backends, key=lambda: publisher_key(backends.profile, home=home), cluster=cluster)
    for finding in findings:
        print(finding)
    return 0 if all(f.level is doctor.Level.OK for f in findings) else 1


# --- shared -----------------------------------------------------------------------------------

def _home(args: argparse.Namespace) -> Home:
    return Home(args.home) if args.home else Home()


def _backends(args: argparse.Namespace, *, repo: RepoConfig | None = None) -> Backends:
    """The backends of the chosen profile, reading profiles from `repo` (default:
    ./syncer.yaml when the command runs in an app repository)."""
    home = _home(args)
    config = repo or work_tree_config()
    return open_backends(select_profile(args.profile, home=home, repo=config), home=home)


def _pick_release(args: argparse.Namespace, ledger: Ledger) -> Release:
    channel = _pick_channel(args.channel, ledger)
    if args.seq is not None:
        return ledger.release(channel, args.seq)
    head = ledger.head(channel)
    if head is None:
        raise ConfigError("has no release yet: publish one first", where=f"channel {channel}")
    return head


def _pick_channel(name: str | None, ledger: Ledger) -> str:
    """The named channel, else the only one of ./syncer.yaml, else the ledger's only one."""
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
