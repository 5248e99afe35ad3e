"""syncer's own install: `templates/syncer/` rendered with checked values, and applied the
way any release is applied.

The templates ship in the wheel (`syncer/data/install`, from `templates/syncer` of the
repository); an editable checkout reads `templates/syncer` itself. Their values are the
defaults of `_values.yaml` there, overridden key by key by the caller's (`--values FILE`);
a key the defaults do not have is refused, naming it.

The install is a release that no ledger recorded. `build` makes a real bundle of the template
files, the resolved values (`values.yaml`) and a `syncer.yaml` with one channel,
`syncer-install`, deploying to the syncer's namespace, then renders and checks it exactly as
`reconcile.load` renders and checks a release: the same sandboxed renderer, the same policy.
The `Release` that goes with it says where it came from: seq 0 (a ledger's releases start at
1), blob ID `install` (it was never stored), the SHA-256 of that bundle, and as its commit
`syncer-<version>`, which the inventory records. So `apply` is `Reconciler.observe` and
`Reconciler.sync`, as for `syncer sync`: the channel's labels on every object, dry runs
before any write, Namespaces and CRDs first and established before the rest, the inventory
in the syncer's namespace, and a prune of whatever a newer install no longer renders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from syncer import __version__, bundle, plan, yamlsafe
from syncer import inventory as inv
from syncer.cluster import Cluster
from syncer.config import CONFIG_FILE, merge_values, parse_config
from syncer.errors import ConfigError
from syncer.model import Action, Obj, ObjectRef, Release
from syncer.policy import enforce
from syncer.policyfiles import release_policies
from syncer.profiles import parse_profiles
from syncer.reconcile import Loaded, Observed, Reconciler, SyncOptions, SyncResult
from syncer.render import render_channel

__all__ = ["CHANNEL", "DEFAULTS_FILE", "IMAGE", "INSTALL_BLOB_ID", "INSTALL_SEQ", "apply",
           "build", "load_values_file", "manifests", "read_templates", "resolve",
           "template_dir"]

CHANNEL = "syncer-install"
INSTALL_SEQ = 0
INSTALL_BLOB_ID = "install"
IMAGE = "ghcr.io/syncer-dev/syncer"
_SECRET_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DEFAULTS_FILE = "_values.yaml"
_VALUES = "values.yaml"
_WHERE = "syncer install"
_FREE_FORM = frozenset({"profiles", "resources.requests", "resources.limits"})
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAME_MAX = 51  # 63 (a label value) less "-impersonate"
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_MAX_VALUES_BYTES = 1024 * 1024
_SOURCE = bundle.CommitInfo(commit=f"syncer-{__version__}", tree="", author="syncer install",
                            author_email="", authored_at=0,
                            message="syncer's own install, rendered by `syncer install`")


# --- the templates ------------------------------------------------------------------------

def template_dir() -> Traversable:
    """The install templates: in the wheel, else in the checkout this module runs from."""
    packaged = resources.files("syncer") / "data" / "install"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "templates" / "syncer"
    if checkout.is_dir():
        return checkout
    raise ConfigError("the install templates are missing from this syncer (neither "
                      "syncer/data/install nor templates/syncer): reinstall it", where=_WHERE)


def read_templates(directory: Traversable) -> dict[str, bytes]:
    """Every file of `directory` (not its subdirectories), by name."""
    return {entry.name: entry.read_bytes() for entry in directory.iterdir() if entry.is_file()}


# --- the values ---------------------------------------------------------------------------

def load_values_file(path: Path) -> dict[str, Any]:
    """A values file (YAML mapping); an empty file is no override."""
    try:
        with path.open("rb") as handle:
            text = handle.read(_MAX_VALUES_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"cannot read values: {e.strerror}", where=str(path)) from e
    if len(text) > _MAX_VALUES_BYTES:
        raise ConfigError(f"over {_MAX_VALUES_BYTES} bytes", where=str(path))
    data = yamlsafe.load(text, where=str(path), error=ConfigError)
    if data is not None and not isinstance(data, dict):
        raise ConfigError("values must be a mapping at the top level", where=str(path))
    return data or {}


def resolve(overrides: Mapping[str, Any], defaults: Mapping[str, Any], *,
            where: str = "values") -> dict[str, Any]:
    """`defaults` with `overrides` merged in, every key and value checked, the image resolved
    and what the templates derive (`derived`: the version, the profiles' SHA-256) added."""
    _check_keys(overrides, defaults, where=where)
    values = merge_values(defaults, overrides)
    _check_values(values, where=where)
    values["image"] = values["image"] or f"{IMAGE}:{__version__}"
    profiles = yamlsafe.dump({"profiles": values["profiles"]}, default_flow_style=False,
                             sort_keys=True)  # the ConfigMap's text (values.yaml is sorted)
    values["derived"] = {"version": __version__,
                         "profilesSha256": hashlib.sha256(profiles.encode()).hexdigest()}
    return values


def _check_keys(over: Mapping[str, Any], base: Mapping[str, Any], *, where: str,
                prefix: str = "") -> None:
    for key, value in over.items():
        path = f"{prefix}{key}"
        if key not in base:
            known = ", ".join(f"{prefix}{k}" for k in sorted(base))
            raise ConfigError(f"unknown key {path!r} (known: {known})", where=where)
        _check_type(value, base[key], path=path, where=where)
        if isinstance(value, dict) and path not in _FREE_FORM:
            _check_keys(value, base[key], where=where, prefix=f"{path}.")


def _check_type(value: Any, default: Any, *, path: str, where: str) -> None:
    """The type of the default, exactly (true is not a number here, as in YAML)."""
    if type(value) is not type(default):
        raise ConfigError(f"{path} must be {_type_name(type(default))}, not "
                          f"{_type_name(type(value))}", where=where)


def _type_name(kind: type) -> str:
    return _TYPE_NAMES.get(kind, kind.__name__)


_TYPE_NAMES = {str: "a string", int: "a number", bool: "true or false", list: "a list",
               dict: "a mapping", type(None): "empty"}


def _check_values(values: Mapping[str, Any], *, where: str) -> None:
    _check_name(values["namespace"], "namespace", limit=63, where=where)
    _check_name(values["name"], "name", limit=_NAME_MAX, where=where)
    if values["replicas"] < 0:
        raise ConfigError("replicas must be 0 or more", where=where)
    if values["imagePullPolicy"] not in _PULL_POLICIES:
        raise ConfigError(f"imagePullPolicy must be one of {', '.join(_PULL_POLICIES)}",
                          where=where)
    for part in ("requests", "limits"):
        _check_quantities(values["resources"][part], f"resources.{part}", where=where)
    _check_impersonation(values["impersonation"], values["namespace"], where=where)
    _check_secret_names(values["decryption"]["secretNames"], where=where)
    parse_profiles(values["profiles"], where=f"{where}: profiles")


def _check_name(value: str, path: str, *, limit: int, where: str) -> None:
    if len(value) > limit or not _DNS_LABEL.match(value):
        raise ConfigError(f"{path} {value!r} is not a DNS label of at most {limit} "
                          "characters (a-z, 0-9, '-')", where=where)


def _check_quantities(found: Mapping[str, Any], path: str, *, where: str) -> None:
    for key, value in found.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"{path}.{key} must be a quantity such as 100m or 1Gi",
                              where=where)


def _check_secret_names(names: list[Any], *, where: str) -> None:
    """decryption.secretNames: Secret names, which the Role grants `get` on by name."""
    for name in names:
        if not isinstance(name, str) or len(name) > 253 or not _SECRET_NAME.fullmatch(name):
            raise ConfigError(f"decryption.secretNames: {str(name)[:80]!r} is not a Secret "
                              "name", where=where)


def _check_impersonation(found: Mapping[str, Any], home: str, *, where: str) -> None:
    names = found["namespaces"]
    for name in names:
        if not isinstance(name, str):
            raise ConfigError("impersonation.namespaces must list namespace names",
                              where=where)
        _check_name(name, "impersonation.namespaces[]", limit=63, where=where)
    if home in names or len(set(names)) != len(names):
        raise ConfigError("impersonation.namespaces names a namespace twice (the syncer's "
                          "own is always there)", where=where)


# --- the release --------------------------------------------------------------------------

def build(overrides: Mapping[str, Any] | None = None, *,
          templates: Mapping[str, bytes] | None = None, where: str = "values") -> Loaded:
    """The install as a loaded release: rendered, checked by policy, not yet placed."""
    files = dict(templates) if templates is not None else read_templates(template_dir())
    if DEFAULTS_FILE not in files:
        raise ConfigError(f"the install templates have no {DEFAULTS_FILE}", where=_WHERE)
    defaults = yamlsafe.load(files[DEFAULTS_FILE], where=DEFAULTS_FILE, error=ConfigError)
    values = resolve(overrides or {}, defaults, where=where)
    data = bundle.build(_SOURCE, _bundle_files(files, values))
    unpacked = bundle.unpack(data)
    config = parse_config(unpacked.files[CONFIG_FILE], where=f"{CONFIG_FILE} of {_WHERE}")
    channel = config.channel(CHANNEL)
    objects = render_channel(unpacked.files, config=config, channel=channel)
    enforce(objects, where=_WHERE, policies=release_policies(unpacked.files), channel=channel)
    release = Release(CHANNEL, INSTALL_SEQ, INSTALL_BLOB_ID, bundle.sha256_hex(data),
                      _SOURCE.commit, publisher=_WHERE, timestamp_ms=0)
    return Loaded(release, unpacked, channel, tuple(objects))


def _bundle_files(templates: Mapping[str, bytes], values: Mapping[str, Any]) -> dict[str, bytes]:
    # The install writes RoleBindings in the impersonation namespaces too: they are its
    # channel's namespaces, for the namespace allowlist policy.
    channel = {"namespace": values["namespace"], "values": [_VALUES],
               "namespaces": list(values["impersonation"]["namespaces"])}
    config = {"version": 1, "sources": ["templates"], "templates": "templates",
              "channels": {CHANNEL: channel}}
    files = {f"templates/{name}": data for name, data in templates.items()}
    files[_VALUES] = yamlsafe.dump(dict(values), sort_keys=True).encode()
    files[CONFIG_FILE] = yamlsafe.dump(config, sort_keys=False).encode()
    return files


def manifests(loaded: Loaded) -> list[Obj]:
    """The objects as `apply` writes them (the channel's labels and the release's
    annotations), in apply order: what `syncer install` prints."""
    release = loaded.release
    decorated = plan.decorate(loaded.objects, channel=release.channel, seq=release.seq,
                              blob_id=release.blob_id)
    return sorted(decorated, key=lambda o: plan.apply_order(ObjectRef.of(o)))


# --- applying -----------------------------------------------------------------------------

def apply(cluster: Cluster, loaded: Loaded, *, dry_run: bool = False,
          workers: int = 8) -> SyncResult:
    """Observe and sync, as `syncer sync` does, keeping the inventory in the syncer's
    namespace. When the cluster holds the install already and its inventory says so, nothing
    is written: no lock is taken and the inventory is left as it is."""
    options = SyncOptions(dry_run=dry_run, inventory_namespace=loaded.namespace,
                          workers=workers)
    reconciler = Reconciler(cluster, options=options)
    observed = reconciler.observe(loaded)
    if _settled(observed):
        return SyncResult(observed)
    return reconciler.sync(observed)


def _settled(observed: Observed) -> bool:
    changes, recorded = observed.changes, observed.inventory
    if changes.has_changes or changes.of(Action.BLOCKED) or recorded is None:
        return False
    release = observed.loaded.release
    objects = [*observed.desired, *plan.kept(changes)]
    return ((recorded.seq, recorded.blob_id, recorded.commit)
            == (release.seq, release.blob_id, release.commit)
            and set(recorded.entries) == {inv.Entry.of(o) for o in objects})
