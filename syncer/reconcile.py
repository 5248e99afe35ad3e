"""The read path: ledger record → blob → verify → render → policy → live state → plan → apply.

`load` turns a release into verified, rendered objects. `Reconciler.observe` reads the live
state with one labelled LIST per kind and namespace plus the inventory, and plans. `diff`
dry-runs what changed for an exact per-object diff; `sync` applies in stages (Namespaces and
CRDs, wait until established, then the rest), prunes, and records the new inventory.

Nothing is applied unless every change first passed a server-side dry run, and nothing is
pruned after a failed read or a failed apply. (An object in a Namespace, or of a CRD, that
the release itself creates cannot be dry-run before that Namespace or CRD exists: its dry
run comes right after them, before any other object is written.)

Dry runs, applies and prunes run on a bounded pool (`SyncOptions.workers`, `workpool`):
every dry run at once, then the applies kind by kind in the apply order (all Namespaces,
then all CRDs, ...), the prunes in reverse. The first failure stops the sync: no further
request starts, those in flight finish, and the error raised (of its own type) says what
was written before it.
"""

from __future__ import annotations

import copy
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from syncer import inventory as inv
from syncer import livestate, plan, workpool
from syncer.blobstore import BlobStore
from syncer.bundle import Bundle, unpack
from syncer.cluster import Cluster, Discovery
from syncer.config import CONFIG_FILE, ChannelConfig, parse_config
from syncer.diff import unified
from syncer.errors import (
    BundleError,
    ClusterError,
    LockedError,
    OwnershipError,
)
from syncer.kinds import crd_scopes
from syncer.lock import ChannelLock
from syncer.model import Action, Change, ChangeSet, Obj, ObjectRef, Release
from syncer.policy import enforce
from syncer.render import render_channel

__all__ = ["Loaded", "ObjectDiff", "Observed", "Reconciler", "SyncOptions", "SyncResult", "load"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """A release whose bytes verified, with its bundle and the objects it renders to."""

    release: Release
    bundle: Bundle
    channel: ChannelConfig
    objects: tuple[Obj, ...]

    @property
    def namespace(self) -> str:
        """The channel's namespace, for objects that name none."""
        return self.channel.namespace


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
    enforce(objects, where=f"release {release.seq} of {release.channel}")
    return Loaded(release, bundle, channel, tuple(objects))


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    allow_empty: bool = False
    inventory_namespace: str = inv.DEFAULT_NAMESPACE
    crd_timeout: float = 30.0
    workers: int = 8  # API requests in flight at once while dry-running, applying, pruning


@dataclass(frozen=True)
class Observed:
    """Desired and live state of one release in one cluster, and the plan between them."""

    loaded: Loaded
    desired: tuple[Obj, ...]
    changes: ChangeSet
    inventory: inv.Inventory | None
    discovery: Discovery


@dataclass(frozen=True)
class ObjectDiff:
    change: Change
    text: str


@dataclass(frozen=True)
class SyncResult:
    observed: Observed
    applied: tuple[Change, ...] = ()
    pruned: tuple[Change, ...] = ()
    skipped: tuple[Change, ...] = ()


class Reconciler:
    """One cluster, one channel: observe, diff, sync."""

    def __init__(self, cluster: Cluster, *, options: SyncOptions | None = None) -> None:
        self.cluster = cluster
        self.options = options or SyncOptions()

    def observe(self, loaded: Loaded) -> Observed:
        release = loaded.release
        discovery = self.cluster.discover()
        _refuse_unavailable(discovery, loaded.objects)
        scope = _scope(discovery, loaded.objects)
        placed = plan.place(loaded.objects, scope=scope, namespace=loaded.namespace)
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
        new = _new_namespaces(observed.changes)
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
                text = f"# {change.ref}: {change.reason}\n"
            else:
                text = unified(change.ref, _plain(change.live), _plain(after[change.ref]))
            out.append(ObjectDiff(change, text))
        return out

    def sync(self, observed: Observed) -> SyncResult:
        """Apply, prune and record, holding the channel's lock. Before the first write, the
        inventory already lists everything about to be applied (with what it listed
        before), so that an interrupted sync leaves nothing a later one cannot prune."""
        changes = observed.changes
        if self.options.dry_run:
            return SyncResult(observed, skipped=changes.of(Action.SKIP))
        _refuse_blocked(changes)
        self._preflight(changes, observed.discovery)
        self._inventory_namespace(observed.discovery)
        with ChannelLock(self.cluster, observed.discovery, channel=observed.loaded.channel.name,
                         namespace=self.options.inventory_namespace) as lock:
            self._refuse_if_changed(observed)
            self._record_intent(observed)
            applied: list[Change] = []
            pruned: list[Change] = []
            try:
                discovery = self._apply_staged(changes, observed.discovery, applied, lock.renew)
                self._prune(changes.of(Action.PRUNE), discovery, pruned, lock.renew)
            except workpool.Stopped as stopped:
                raise _stopped(stopped.error, changes, applied, pruned) from None
            self._record(observed, [*observed.desired, *plan.kept(changes)], discovery)
        return SyncResult(observed, tuple(applied), tuple(pruned), changes.of(Action.SKIP))

    # --- reading -------------------------------------------------------------------------

    def _read_inventory(self, channel: str, discovery: Discovery) -> inv.Inventory | None:
        cm = discovery.require("", "ConfigMap")
        found = self.cluster.get(cm, namespace=self.options.inventory_namespace,
                                 name=inv.configmap_name(channel))
        return inv.from_configmap(found) if found else None

    def _would_be(self, change: Change, discovery: Discovery,
                  new_namespaces: frozenset[str]) -> Obj | None:
        """The server's dry run of `change`; its own manifest if it cannot be dry-run yet
        (`_deferred`), without asking."""
        if change.desired is None:
            return None
        if _deferred(change, discovery, new_namespaces):
            return change.desired
        return self.cluster.apply(change.desired, discovery.of(change.ref), dry_run=True)

    # --- writing -------------------------------------------------------------------------

    def _preflight(self, changes: ChangeSet, discovery: Discovery) -> None:
        """Dry-run every change the server can check now, before anything is written; the
        first refusal in apply order is raised. The rest waits for `_apply_staged`."""
        new = _new_namespaces(changes)
        todo = [c for c in changes.of(Action.CREATE, Action.UPDATE)
                if not _deferred(c, discovery, new)]
        try:
            self._dry_run(todo, discovery)
        except workpool.Stopped as stopped:
            raise stopped.error from None

    def _dry_run(self, changes: Sequence[Change], discovery: Discovery,
                 tick: Callable[[], None] = lambda: None) -> None:
        assert all(c.desired is not None for c in changes)
        workpool.run([partial(self.cluster.apply, c.desired, discovery.of(c.ref), dry_run=True)
                      for c in changes if c.desired is not None], workers=self.options.workers,
                     tick=tick)

    def _apply_staged(self, changes: ChangeSet, discovery: Discovery,
                      applied: list[Change], tick: Callable[[], None]) -> Discovery:
        """Namespaces and CRDs, wait for the CRDs; then the dry runs that had to wait for
        them (a refusal stops the sync with only those written), then the rest; the
        discovery after."""
        todo = changes.of(Action.CREATE, Action.UPDATE)
        first = [c for c in todo if (c.ref.group, c.ref.kind) in (plan.NAMESPACE, plan.CRD)]
        self._in_tiers(first, partial(self._apply_one, discovery=discovery), applied, tick)
        before = discovery
        if any((c.ref.group, c.ref.kind) == plan.CRD for c in first):
            self._wait_established([c.ref for c in first if (c.ref.group, c.ref.kind) == plan.CRD],
                                   discovery)
            discovery = self.cluster.discover()
        rest = [c for c in todo if c not in first]
        new = _new_namespaces(changes)
        self._dry_run([c for c in rest if _deferred(c, before, new)], discovery, tick)
        self._in_tiers(rest, partial(self._apply_one, discovery=discovery), applied, tick)
        return discovery

    def _in_tiers(self, changes: Sequence[Change], step: Callable[[Change], None],
                  done: list[Change], tick: Callable[[], None]) -> None:
        """`step` each change, a kind at a time in the given order, the changes of one kind
        on the pool; `done` receives each change stepped, also when one fails."""
        for _, tier in itertools.groupby(changes, key=lambda c: plan.apply_order(c.ref)[:2]):
            batch = list(tier)
            try:
                workpool.run([partial(step, c) for c in batch], workers=self.options.workers,
                             tick=tick)
            except workpool.Stopped as stopped:
                done.extend(batch[i] for i in sorted(stopped.done))
                raise
            done.extend(batch)

    def _apply_one(self, change: Change, *, discovery: Discovery) -> None:
        assert change.desired is not None
        before = change.live
        after = self.cluster.apply(change.desired, discovery.of(change.ref))
        _log_takeovers(change.ref, before, after)
        log.info("applied", extra={"object": str(change.ref), "action": change.action.value})

    def _wait_established(self, crds: list[ObjectRef], discovery: Discovery) -> None:
        resource = discovery.of(crds[0])
        deadline = time.monotonic() + self.options.crd_timeout
        for ref in crds:
            while not _established(self.cluster.get(resource, namespace="", name=ref.name)):
                if time.monotonic() > deadline:
                    raise ClusterError("not Established in time", where=str(ref))
                time.sleep(0.2)

    def _prune(self, prunes: Sequence[Change], discovery: Discovery, done: list[Change],
               tick: Callable[[], None]) -> None:
        """Delete, a kind at a time in reverse apply order (the plan's order)."""
        self._in_tiers(prunes, partial(self._prune_one, discovery=discovery), done, tick)

    def _prune_one(self, change: Change, *, discovery: Discovery) -> None:
        assert change.live is not None
        resource = discovery.of(change.ref)
        self.cluster.delete(resource, namespace=change.ref.namespace, name=change.ref.name)
        log.info("pruned", extra={"object": str(change.ref), "action": "prune"})

    def _refuse_if_changed(self, observed: Observed) -> None:
        """Another sync may have written between this one's reading and its lock."""
        now = self._read_inventory(observed.loaded.release.channel, observed.discovery)
        if now != observed.inventory:
            seq = f"release {now.seq}" if now else "a release"
            raise LockedError(f"another sync applied {seq} while this one was reading; "
                              "nothing was applied: sync again",
                              where=f"channel {observed.loaded.release.channel}")

    def _record_intent(self, observed: Observed) -> None:
        """The old record plus what is about to be applied, under the old release's name."""
        release, old = observed.loaded.release, observed.inventory
        old = old or inv.Inventory(release.channel, 0, "", "", ())
        coming = {inv.Entry.of(c.desired) for c in observed.changes.of(Action.CREATE,
                                                                       Action.UPDATE)
                  if c.desired is not None}
        if coming <= set(old.entries):
            return
        record = inv.Inventory(old.channel, old.seq, old.blob_id, old.commit,
                               tuple(sorted(coming | set(old.entries))))
        self._write_inventory(record, observed.discovery)

    def _record(self, observed: Observed, objects: list[Obj], discovery: Discovery) -> None:
        """The inventory of the release now applied."""
        release = observed.loaded.release
        record = inv.Inventory(release.channel, release.seq, release.blob_id, release.commit,
                               tuple(sorted({inv.Entry.of(o) for o in objects})))
        self._write_inventory(record, discovery)

    def _inventory_namespace(self, discovery: Discovery) -> None:
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": self.options.inventory_namespace}}
        self.cluster.apply(namespace, discovery.require("", "Namespace"))

    def _write_inventory(self, record: inv.Inventory, discovery: Discovery) -> None:
        configmap = inv.to_configmap(record, namespace=self.options.inventory_namespace)
        self.cluster.apply(configmap, discovery.require("", "ConfigMap"))


def _scope(discovery: Discovery, objects: Iterable[Obj]) -> plan.Scope:
    """Scope from discovery, and from the CRDs in the release for kinds not served yet."""
    pending = crd_scopes(objects)

    def scope(group: str, kind: str) -> bool | None:
        found = discovery.find(group, kind)
        return found.namespaced if found else pending.get((group, kind))

    return scope


def _stopped(error: BaseException, changes: ChangeSet, applied: Sequence[Change],
             pruned: Sequence[Change]) -> BaseException:
    """The error a sync stops with, naming what it wrote before (a bug is raised as is)."""
    if not isinstance(error, ClusterError):
        return error
    planned = len(changes.of(Action.CREATE, Action.UPDATE, Action.PRUNE))
    return error.stopped_sync(applied=tuple(c.ref for c in applied),
                              pruned=tuple(c.ref for c in pruned), planned=planned)


def _refuse_blocked(changes: ChangeSet) -> None:
    """A release holding an object that is not this channel's is refused whole."""
    blocked = changes.of(Action.BLOCKED)
    if blocked:
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        raise OwnershipError(f"{blocked[0].reason}{more}; nothing was applied",
                             where=str(blocked[0].ref))


def _deferred(change: Change, discovery: Discovery, new_namespaces: frozenset[str]) -> bool:
    """Whether `change` cannot be dry-run before this release's own Namespaces and CRDs
    exist: its namespace, or its kind, is created by the release (the server would answer
    404)."""
    ref = change.ref
    return (ref.namespace in new_namespaces
            or discovery.find(ref.group, ref.kind) is None)


def _new_namespaces(changes: ChangeSet) -> frozenset[str]:
    """The Namespaces this change set creates."""
    return frozenset(c.ref.name for c in changes.of(Action.CREATE)
                     if (c.ref.group, c.ref.kind) == plan.NAMESPACE)


def _established(crd: Obj | None) -> bool:
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in conditions)


def _plain(obj: Obj | None) -> Obj | None:
    """Without bookkeeping annotations: they say which release applied, not what."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    notes = (out.get("metadata") or {}).get("annotations") or {}
    for key in plan.BOOKKEEPING:
        notes.pop(key, None)
    return out


def _log_takeovers(ref: ObjectRef, before: Obj | None, after: Obj) -> None:
    """Log fields that another manager owned before this apply and no longer does."""
    old = _owned(before)
    new = _owned(after)
    for manager, fields in sorted(old.items()):
        if manager == "syncer":
            continue
        lost = sorted(fields - new.get(manager, set()))
        if lost:
            log.warning("took over fields from another manager",
                        extra={"object": str(ref), "manager": manager,
                               "fields": ", ".join(lost[:10])})


def _owned(obj: Obj | None) -> dict[str, set[str]]:
    owned: dict[str, set[str]] = {}
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        paths = owned.setdefault(str(entry.get("manager")), set())
        paths.update(_leaves(entry.get("fieldsV1") or {}, ""))
    return owned


def _leaves(tree: Mapping[str, object], prefix: str) -> Iterable[str]:
    for key, sub in tree.items():
        path = f"{prefix}/{key}" if prefix else key
        if isinstance(sub, Mapping) and sub:
            yield from _leaves(sub, path)
        elif key != ".":
            yield path


def _refuse_unavailable(discovery: Discovery, objects: Iterable[Obj]) -> None:
    """GroupUnavailableError for the first object whose API group failed discovery."""
    for obj in objects:
        ref = ObjectRef.of(obj)
        discovery.check(ref.group, ref.kind, where=str(ref),
                        version=str(obj["apiVersion"]).rpartition("/")[2])
