"""Git hooks: install git-hooks/pre-push in a repository, and what that hook does: publish
the pushed tip of each branch a channel follows, as the commit's own syncer.yaml says."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

import git

from syncer.backends import open_backends, publisher_key, select_profile
from syncer.config import Home, RepoConfig
from syncer.errors import GitError
from syncer.gitsource import open_repo
from syncer.publish import Published, PublishOptions, commit_config, publish

__all__ = ["install", "publish_pushed", "pushed_branches"]

_ZERO = "0" * 40
_MARKER = "syncer hooks pre-push"
_DEFAULT_LINE = 'SYNCER="${SYNCER_BIN:-syncer}"'


def install(path: Path, *, force: bool = False) -> Path:
    """Write the pre-push hook into the repository at `path`; refuse to replace a hook that
    syncer did not write unless `force`. Returns the hook's path."""
    repo = open_repo(path)
    target = Path(repo.git_dir) / "hooks" / "pre-push"
    if target.exists() and _MARKER not in target.read_text(errors="replace") and not force:
        raise GitError("a pre-push hook that syncer did not write is there; pass --force to "
                       "replace it", where=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_hook_text())
    target.chmod(0o755)
    return target


def _hook_text() -> str:
    """The packaged hook, defaulting to the syncer that installed it."""
    text = (resources.files("syncer") / "data" / "pre-push").read_text()
    if " " in sys.executable:
        return text
    return text.replace(_DEFAULT_LINE, f'SYNCER="${{SYNCER_BIN:-{sys.executable} -m syncer}}"')


def pushed_branches(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(branch, commit) for each pushed branch that is not being deleted, from the lines git
    gives a pre-push hook on stdin."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) != 4:
            continue
        local_ref, local_sha = parts[0], parts[1]
        if local_sha == _ZERO or not local_ref.startswith("refs/heads/"):
            continue
        out.append((local_ref.removeprefix("refs/heads/"), local_sha))
    return out


def publish_pushed(path: Path, pushed: Iterable[tuple[str, str]], *, home: Home,
                   profile: str | None = None) -> Iterator[Published]:
    """Publish each pushed (branch, commit) that a channel of the commit's syncer.yaml
    follows, with the profile that file (or `profile`) names."""
    repo = open_repo(path)
    for branch, commit in pushed:
        config = _commit_config(repo, commit)
        if config is None or not config.channels_for_branch(branch):
            continue
        chosen = select_profile(profile, home=home, repo=config)
        key = publisher_key(chosen, home=home)
        backends = open_backends(chosen, home=home, blob_owner=key.address)
        yield from publish(repo, key=key, blobs=backends.blobs, ledger=backends.ledger,
                           options=PublishOptions(rev=commit, branch=branch))


def _commit_config(repo: git.Repo, commit: str) -> RepoConfig | None:
    """The commit's own syncer.yaml; None when the commit has none."""
    try:
        return commit_config(repo, commit)[1]
    except GitError:
        return None
