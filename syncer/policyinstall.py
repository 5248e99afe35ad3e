"""`syncer policy install`: the default policies and a repository's, installed in a cluster
unchanged, so that the cluster's own admission enforces what publish checked.

Policies marked bundle-only (`syncer.io/bundle-only: "true"`, the plaintext-Secret policy:
a cluster sees Secrets decrypted) are left out. The rest are applied the way `syncer
install` applies syncer's own install: as a release that no ledger recorded, of the
channel `syncer-policies` in `syncer-system`, with dry runs first and the inventory kept
there, so a policy removed from the repository is pruned by the next install.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from syncer import __version__, bundle, install, output, vap
from syncer.cluster import Cluster
from syncer.config import CONFIG_FILE, parse_config
from syncer.model import Obj, Release
from syncer.reconcile import Loaded, SyncResult
from syncer.render import render_channel

__all__ = ["CHANNEL", "NAMESPACE", "Selection", "apply", "build", "select"]

CHANNEL = "syncer-policies"
NAMESPACE = "syncer-system"
_SOURCE = bundle.CommitInfo(commit=f"syncer-policies-{__version__}", tree="",
                            author="syncer policy install", author_email="", authored_at=0,
                            message="policies installed by `syncer policy install`")


@dataclass(frozen=True)
class Selection:
    """What is installed, and the bundle-only policies left out."""

    objects: tuple[Obj, ...]
    skipped: tuple[str, ...]


def select(policies: vap.PolicySet) -> Selection:
    """The policies, their bindings and the params objects of their files, as written;
    bundle-only policies and their bindings left out."""
    skipped = {p.name for p in policies.policies if p.bundle_only}
    objects = [p.obj for p in policies.policies if p.name not in skipped]
    objects += [b.obj for b in policies.bindings if b.policy not in skipped]
    objects += policies.params
    return Selection(tuple(objects), tuple(sorted(skipped)))


def build(objects: Sequence[Obj]) -> Loaded:
    """The objects as a loaded release of channel `syncer-policies` (not yet placed)."""
    files = {"templates/policies.yaml": output.manifests(objects).encode(),
             CONFIG_FILE: (f"version: 1\nsources: [templates]\ntemplates: templates\n"
                           f"channels:\n  {CHANNEL}:\n    namespace: {NAMESPACE}\n").encode()}
    data = bundle.build(_SOURCE, files)
    unpacked = bundle.unpack(data)
    config = parse_config(unpacked.files[CONFIG_FILE], where="syncer policy install")
    channel = config.channel(CHANNEL)
    rendered = render_channel(unpacked.files, config=config, channel=channel)
    release = Release(CHANNEL, install.INSTALL_SEQ, install.INSTALL_BLOB_ID,
                      bundle.sha256_hex(data), _SOURCE.commit,
                      publisher="syncer policy install", timestamp_ms=0)
    return Loaded(release, unpacked, channel, tuple(rendered))


def apply(cluster: Cluster, loaded: Loaded, *, dry_run: bool = False) -> SyncResult:
    """Applied as `syncer install` applies (server-side apply, inventory in syncer-system)."""
    return install.apply(cluster, loaded, dry_run=dry_run)
