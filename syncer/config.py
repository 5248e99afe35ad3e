"""syncer.yaml: what goes into a bundle and where each channel deploys; local state paths.

`syncer.yaml` sits at the root of an app repository and is always part of the bundle, so the
syncer in the cluster reads the same file from the release it applies:

    version: 1
    sources: [templates, values, policies]   # paths bundled from the commit (default)
    templates: templates                     # where manifests and .j2 templates live
    channels:
      shop-dev:
        branch: main                         # pushes of this branch publish to the channel
        namespace: shop-dev                  # namespace for objects that name none
        values: [values/common.yaml, values/dev.yaml]

Local state (keys, blobs, ledger) lives under `$SYNCER_HOME` (default `~/.syncer`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncer import yamlsafe
from syncer.errors import ConfigError

__all__ = [
    "CONFIG_FILE",
    "ChannelConfig",
    "Home",
    "RepoConfig",
    "check_channel_name",
    "merge_values",
    "parse_config",
]

CONFIG_FILE = "syncer.yaml"
DEFAULT_SOURCES = ("templates", "values", "policies")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_TOP_KEYS = {"version", "sources", "templates", "channels", "profile", "profiles"}
_CHANNEL_KEYS = {"branch", "namespace", "namespaces", "values", "prune_namespaces",
                 "prune_crds"}


@dataclass(frozen=True)
class ChannelConfig:
    """One channel: the branch that publishes to it, its namespace and values files."""

    name: str
    namespace: str
    branch: str = "main"
    values: tuple[str, ...] = ()
    prune_namespaces: bool = False  # a pruned Namespace takes everything in it along
    prune_crds: bool = False  # a pruned CRD takes every custom resource of its kind along
    namespaces: tuple[str, ...] = ()  # more namespaces its objects may go to (policy)


@dataclass(frozen=True)
class RepoConfig:
    """The parsed syncer.yaml."""

    channels: Mapping[str, ChannelConfig]
    sources: tuple[str, ...] = DEFAULT_SOURCES
    templates: str = "templates"
    profile: str | None = None
    profiles: Mapping[str, Any] = field(default_factory=dict)

    def channel(self, name: str | None) -> ChannelConfig:
        """The named channel, or the only one when no name is given."""
        if name is None:
            if len(self.channels) == 1:
                return next(iter(self.channels.values()))
            names = ", ".join(sorted(self.channels))
            raise ConfigError(f"several channels ({names}): name one with --channel")
        if name not in self.channels:
            raise ConfigError(f"no channel {name!r} in {CONFIG_FILE}")
        return self.channels[name]

    def channels_for_branch(self, branch: str) -> list[ChannelConfig]:
        return [c for c in self.channels.values() if c.branch == branch]


def check_channel_name(name: str, *, where: str = "channel") -> str:
    """Channel names are Kubernetes label values: they label every applied object."""
    if not _LABEL_VALUE.match(name):
        raise ConfigError(
            f"channel name {name!r} is not a valid label value "
            "(63 characters at most: letters, digits, '-', '_', '.')",
            where=where,
        )
    return name


def parse_config(text: str | bytes, *, where: str = CONFIG_FILE) -> RepoConfig:
    """Parse syncer.yaml; every problem names the file and the field."""
    data = yamlsafe.load(text, where=where, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping with a 'channels' key", where=where)
    _no_unknown(data, _TOP_KEYS, where)
    if data.get("version", 1) != 1:
        raise ConfigError(f"version {data.get('version')!r} is not supported (1)", where=where)
    return RepoConfig(
        channels=_channels(data.get("channels"), where),
        sources=_paths(data.get("sources", list(DEFAULT_SOURCES)), f"{where}: sources"),
        templates=_path(data.get("templates", "templates"), f"{where}: templates"),
        profile=_optional_name(data.get("profile"), f"{where}: profile"),
        profiles=data.get("profiles") or {},
    )


def _optional_name(raw: Any, where: str) -> str | None:
    if raw is None or (isinstance(raw, str) and raw):
        return raw
    raise ConfigError(f"{raw!r} is not a profile name", where=where)


def _channels(raw: Any, where: str) -> dict[str, ChannelConfig]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("'channels' must map at least one channel name to its settings",
                          where=where)
    return {str(name): _channel(str(name), spec, where) for name, spec in raw.items()}


def _channel(name: str, spec: Any, where: str) -> ChannelConfig:
    at = f"{where}: channels.{name}"
    check_channel_name(name, where=at)
    if not isinstance(spec, dict):
        raise ConfigError("must be a mapping (namespace, branch, values)", where=at)
    _no_unknown(spec, _CHANNEL_KEYS, at)
    namespace = spec.get("namespace")
    if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
        raise ConfigError(f"namespace {namespace!r} is not a valid namespace name",
                          where=f"{at}.namespace")
    branch = spec.get("branch", "main")
    if not isinstance(branch, str) or not branch:
        raise ConfigError("branch must be a branch name", where=f"{at}.branch")
    values = spec.get("values", [])
    values = [values] if isinstance(values, str) else values
    return ChannelConfig(name, namespace, branch, _paths(values, f"{at}.values"),
                         _flag(spec, "prune_namespaces", at), _flag(spec, "prune_crds", at),
                         _namespaces(spec.get("namespaces", []), f"{at}.namespaces"))


def _namespaces(raw: Any, where: str) -> tuple[str, ...]:
    """More namespaces a channel's objects may go to (the namespace allowlist policy)."""
    if not isinstance(raw, list) or not all(
            isinstance(n, str) and _NAMESPACE.match(n) for n in raw):
        raise ConfigError("must be a list of namespace names", where=where)
    return tuple(raw)


def _flag(spec: Mapping[str, Any], key: str, at: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError("must be true or false", where=f"{at}.{key}")
    return value


def _paths(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise ConfigError("must be a list of paths", where=where)
    return tuple(_path(p, where) for p in raw)


def _path(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip("/"):
        raise ConfigError(f"{raw!r} is not a path", where=where)
    path = raw.strip("/")
    if path.startswith("../") or "/../" in f"/{path}/" or Path(raw).is_absolute():
        raise ConfigError(f"{raw!r} must be a relative path inside the repository", where=where)
    return path


def _no_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})",
                          where=where)


@dataclass(frozen=True)
class Home:
    """Local state under $SYNCER_HOME: keys, the embedded blob store and ledger, caches."""

    root: Path = field(default_factory=lambda: Path(
        os.environ.get("SYNCER_HOME") or Path.home() / ".syncer"))

    @property
    def key_file(self) -> Path:
        return self.root / "keys" / "publisher.key"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def cache(self) -> Path:
        """Caches that only save work: verified blob IDs, rendered releases. Safe to delete."""
        return self.root / "cache"

    @property
    def profiles(self) -> Path:
        """Profile definitions for this machine, and the Registry IDs `syncer init` made."""
        return self.root / "profiles.yaml"


def merge_values(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of mappings; anything else in `over` replaces what `base` had."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out
