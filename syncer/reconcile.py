"""The read path: ledger record → blob → verify → render → policy → live state → plan → apply.

`load` turns a release into verified, rendered objects. `Reconciler.observe` reads the live
state with one labelled LIST per kind and namespace plus the inventory, and plans. `diff`
dry-runs what changed for an exact per-object diff; `sync` applies it: a `SyncRun`
(`syncer.syncrun`) stepped to the end, wave by wave, kind tier by kind tier, then prunes and
records the new inventory. `start` gives the `SyncRun` itself, for a caller that steps it
(the controller, which must be able to stop between steps).

Nothing is applied unless every change first passed a server-side dry run, and nothing is
pruned after a failed read or a failed apply. (An object in a Namespace, or of a CRD, that
the release itself creates cannot be dry-run before that Namespace or CRD exists: its dry
run comes right after them, before any other object is written.)
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from syncer import inventory as inv
from syncer import livestate, plan, sops, tenancy, workpool
from syncer.blobstore import BlobStore
from syncer.bundle import unpack
from syncer.clock import Clock, SystemClock
from syncer.cluster import Cluster, Discovery
from syncer.config import CONFIG_FILE, parse_config
from syncer.diff import unified
from syncer.errors import BundleError, DecryptionError, DecryptionKeyError
from syncer.kinds import crd_scopes
from syncer.model import Action, Change, Obj, ObjectRef, Release
from syncer.policy import enforce
from syncer.policyfiles import release_policies
from syncer.render import render_channel
from syncer.sops import Identity
from syncer.syncrun import (
    Loaded,
    Observed,
    SyncOptions,
    SyncResult,
    SyncRun,
    can_dry_run,
    new_namespaces,
    read_inventory,
)

__all__ = ["Loaded", "ObjectDiff", "Observed", "Reconciler", "SyncOptions", "SyncResult",
           "SyncRun", "load", "opened"]

log = logging.getLogger(__name__)


def load(release: Release, *, blobs: BlobStore) -> Loaded:
    """Fetch, verify, unpack and render one release; policy violations stop here."""
    data = blobs.get(release.blob_id, sha256=release.sha256)
    bundle = unpack(data)
    if bundle.manifest.source.commit != release.commit:
        raise BundleError(f"bundle is of commit {bundle.manifest.source.commit[:12]}, the "
                          f"release records {release.commit[:12]}",
                          where=f"release {release.seq} of {release.channel}")
    if CONFIG_FILE not in bundle.files:
        raise BundleError("bundle has no syncer.yaml", where=f"blob {release.blob_id}")
    config = parse_config(bundle.files[CONFIG_FILE], where=f"{CONFIG_FILE} of release "
                                                          f"{release.seq}")
    channel = config.channel(release.channel)
    objects = render_channel(bundle.files, config=config, channel=channel)
    enforce(objects, where=f"release {release.seq} of {release.channel}",
            policies=release_policies(bundle.files), channel=channel)
    return Loaded(release, bundle, channel, tuple(objects))


@dataclass(frozen=True)
class ObjectDiff:
    """One changed object's diff, and the two sides it was made from (bookkeeping
    annotations dropped): live, and what the server's dry run would make of it."""

    change: Change
    text: str
    before: Obj | None = field(default=None, compare=False)
    after: Obj | None = field(default=None, compare=False)


class Reconciler:
    """One cluster, one channel: observe, diff, sync."""

    def __init__(self, cluster: Cluster, *, options: SyncOptions | None = None,
                 clock: Clock | None = None, books: Cluster | None = None) -> None:
        """`cluster` reads and writes the channel's objects; `books` (default: `cluster`)
        its inventory and lock, which a channel's narrower identity may not reach."""
        self.cluster = cluster
        self.books = books or cluster
        self.options = options or SyncOptions()
        self.clock = clock or SystemClock()

    def observe(self, loaded: Loaded, *, discovery: Discovery | None = None) -> Observed:
        """Plan `loaded` against the live state; `discovery` when the caller has just read
        it (the controller, once per pass), else it is read here. Its SOPS-encrypted
        Secrets are decrypted first, in memory only (`opened`)."""
        loaded = opened(loaded, self.options.keys)
        release = loaded.release
        discovery = discovery or self.cluster.discover()
        _refuse_unavailable(discovery, loaded.objects)
        scope = _scope(discovery, loaded.objects)
        placed = plan.place(loaded.objects, scope=scope, namespace=loaded.namespace)
        if self.options.lane is not None:  # before any read outside the lane
            tenancy.check((ObjectRef.of(o) for o in placed), self.options.lane,
                          channel=release.channel)
        desired = plan.decorate(placed, channel=release.channel, seq=release.seq,
                                blob_id=release.blob_id)
        inventory = self._read_inventory(release.channel, discovery)
        known = inventory.refs if inventory else {}
        managed, others = livestate.read(self.cluster, discovery, channel=release.channel,
                                         desired=desired, refs=known)
        rules = plan.PruneRules(loaded.channel.prune_namespaces, loaded.channel.prune_crds)
        held = livestate.held(self.cluster, discovery, channel=release.channel,
                              candidates=plan.guarded_prunes(desired, managed, known, rules),
                              managed=managed)
        unread = livestate.unread(discovery, known.values())
        changes = plan.decide(desired, plan.LiveState(managed, others, held, unread), known,
                              channel=release.channel, rules=rules,
                              allow_empty=self.options.allow_empty)
        return Observed(loaded, tuple(desired), changes, inventory, discovery)

    def diff(self, observed: Observed) -> list[ObjectDiff]:
        """Exact diffs: what the API server would make of each changed object (the dry
        runs on the pool; the first refusal in apply order is raised)."""
        new = new_namespaces(observed.changes)
        shown = observed.changes.of(Action.CREATE, Action.UPDATE, Action.PRUNE, Action.BLOCKED)
        asked = [c for c in shown if c.action is not Action.BLOCKED]
        try:
            answers = workpool.run([partial(self._would_be, c, observed.discovery, new)
                                    for c in asked], workers=self.options.workers)
        except workpool.Stopped as stopped:
            raise stopped.error from None
        after = dict(zip((c.ref for c in asked), answers, strict=True))
        out = []
        for change in shown:
            if change.action is Action.BLOCKED:
                out.append(ObjectDiff(change, f"# {change.ref}: {change.reason}\n"))
                continue
            before, would_be = _plain(change.live), _plain(after[change.ref])
            out.append(ObjectDiff(change, unified(change.ref, before, would_be), before,
                                  would_be))
        return out

    def sync(self, observed: Observed, *, stop: threading.Event | None = None) -> SyncResult:
        """Apply, prune and record, holding the channel's lock (`SyncRun`, stepped to the
        end); `stop` ends it between two steps."""
        return self.start(observed, stop=stop).run()

    def start(self, observed: Observed, *, stop: threading.Event | None = None) -> SyncRun:
        """The sync of `observed` as a value to step (`SyncRun.step`)."""
        return SyncRun(self.cluster, observed, options=self.options, clock=self.clock,
                       stop=stop, books=self.books)

    def _read_inventory(self, channel: str, discovery: Discovery) -> inv.Inventory | None:
        return read_inventory(self.books, discovery, channel=channel,
                              namespace=self.options.inventory_namespace)

    def _would_be(self, change: Change, discovery: Discovery,
                  new_namespaces: frozenset[str]) -> Obj | None:
        """The server's dry run of `change`; its own manifest if it cannot be dry-run yet
        (`can_dry_run`), without asking."""
        if change.desired is None:
            return None
        if not can_dry_run(change, discovery, new_namespaces):
            return change.desired
        return self.cluster.apply(change.desired, discovery.of(change.ref), dry_run=True)


def opened(loaded: Loaded, keys: Callable[[], Sequence[Identity]] | None) -> Loaded:
    """`loaded` with its SOPS-encrypted Secrets decrypted (`sops.open_objects`) with the
    identities `keys()` gives, asked for only when there are some. The plaintext lives in
    the returned value only: the release cache, `syncer show` and the bundle keep the
    encrypted form."""
    if not any(sops.has_sops(o) for o in loaded.objects):
        return loaded
    release = loaded.release
    try:
        objects = sops.open_objects(loaded.objects, keys or _no_keys)
    except DecryptionError as e:  # the release, then the object and field it names
        where = f"release {release.seq} of {release.channel}"
        raise type(e)(e.message, where=f"{where}: {e.where}" if e.where else where) from None
    return dataclasses.replace(loaded, objects=objects)


def _no_keys() -> Sequence[Identity]:
    raise DecryptionKeyError("the release holds SOPS-encrypted Secrets and this sync was "
                             "given no age key source")


def _scope(discovery: Discovery, objects: Iterable[Obj]) -> plan.Scope:
    """Scope from discovery, and from the CRDs in the release for kinds not served yet."""
    pending = crd_scopes(objects)

    def scope(group: str, kind: str) -> bool | None:
        found = discovery.find(group, kind)
        return found.namespaced if found else pending.get((group, kind))

    return scope










def _plain(obj: Obj | None) -> Obj | None:
    """Without bookkeeping annotations: they say which release applied, not what."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    notes = (out.get("metadata") or {}).get("annotations") or {}
    for key in plan.BOOKKEEPING:
        notes.pop(key, None)
    return out








def _refuse_unavailable(discovery: Discovery, objects: Iterable[Obj]) -> None:
    """GroupUnavailableError for the first object whose API group failed discovery."""
    for obj in objects:
        ref = ObjectRef.of(obj)
        discovery.check(ref.group, ref.kind, where=str(ref),
                        version=str(obj["apiVersion"]).rpartition("/")[2])
