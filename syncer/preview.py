"""What a commit or the work tree would release to a channel, with nothing stored or recorded.

The path of `syncer publish` up to the point where it stores: the source's own syncer.yaml
(the commit's, or the work tree's), the files under its `sources` (`gitsource`, the work tree
with the same selection), made into the very bundle publish would store (`bundle.build`, so
its caps and path rules hold) and read back, rendered with the channel's values, placed
(namespaces settled, names checked, as publish checks them). Policy results come back as
findings instead of stopping here, so that a review can show them all: `policy_findings`
is the one call into the policy engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import git

from syncer import waves
from syncer.bundle import Bundle, CommitInfo, build, sha256_hex, unpack
from syncer.config import CONFIG_FILE, RepoConfig, parse_config
from syncer.errors import GitError, PolicyError, RenderError
from syncer.gitsource import WORK_TREE, read_commit, read_work_tree
from syncer.kinds import check_names, offline_scope
from syncer.model import Obj, Release
from syncer.plan import place
from syncer.publish import commit_config
from syncer.reconcile import Loaded
from syncer.render import render_channel
from syncer.review import Finding, redact

__all__ = ["Source", "channels_at", "commit", "placed", "policy_findings", "work_tree"]


@dataclass(frozen=True)
class Source:
    """A commit's (or the work tree's) deploy sources as the bundle publish would store."""

    bundle: Bundle
    config: RepoConfig
    sha256: str

    @property
    def commit(self) -> str:
        return self.bundle.manifest.source.commit

    def loaded(self, channel: str | None) -> Loaded:
        """The channel's objects, rendered; a release of seq 0 stands for the unpublished."""
        config = self.config.channel(channel)
        objects = render_channel(self.bundle.files, config=self.config, channel=config)
        release = Release(config.name, 0, "", self.sha256, self.commit, "", 0)
        return Loaded(release, self.bundle, config, tuple(objects))


def commit(repo: git.Repo, rev: str) -> Source:
    """Commit `rev`'s sources, read as publish reads them (its own syncer.yaml first)."""
    sha, config = commit_config(repo, rev)
    info, files = read_commit(repo, sha, sources=config.sources)
    return _source(info, files, config)


def work_tree(repo: git.Repo) -> Source:
    """The work tree's sources: its syncer.yaml, and the files its `sources` select."""
    _, found = read_work_tree(repo, sources=())
    config = parse_config(found[CONFIG_FILE], where=f"{CONFIG_FILE} in the {WORK_TREE}")
    info, files = read_work_tree(repo, sources=config.sources)
    return _source(info, files, config)


def _source(info: CommitInfo, files: Mapping[str, bytes], config: RepoConfig) -> Source:
    data = build(info, files)
    return Source(unpack(data), config, sha256_hex(data))


def channels_at(repo: git.Repo, rev: str) -> list[str]:
    """The channels of the commit's syncer.yaml; none when it has no syncer.yaml."""
    try:
        _, config = commit_config(repo, rev)
    except GitError:
        return []
    return sorted(config.channels)


def placed(loaded: Loaded) -> list[Obj]:
    """The objects with their namespaces settled and names checked, as publish checks them
    (no cluster: the kinds' scopes from the built-in table and the release's own CRDs)."""
    where = f"channel {loaded.channel.name} at {loaded.release.commit[:12]}"
    try:
        objects = place(loaded.objects, scope=offline_scope(loaded.objects),
                        namespace=loaded.namespace)
        check_names(objects)
    except RenderError as e:
        raise RenderError(e.message, where=f"{where}: {e.where}") from e
    return objects


def policy_findings(loaded: Loaded) -> tuple[Finding, ...]:
    """Every policy verdict on what `loaded` would release (deny and warn), and an invalid
    wave annotation, as findings. The one call into the policy engine: adapt it here."""
    from syncer import policy  # noqa: PLC0415 - the CEL engine, only when a side is checked
    from syncer.policyfiles import release_policies  # noqa: PLC0415

    verdicts = policy.check(loaded.objects, release_policies(loaded.bundle.files),
                            channel=loaded.channel)
    found = [Finding("deny" if v.deny else "warn", str(v)) for v in verdicts]
    try:
        waves.check(loaded.objects)
    except PolicyError as e:
        found.append(Finding("deny", str(e)))
    return tuple(Finding(f.severity, redact(f.message, loaded.objects)) for f in found)
