"""The git adapter: the files and metadata of one commit, read from its tree, not the work tree."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import git

from syncer.bundle import CommitInfo
from syncer.config import CONFIG_FILE
from syncer.errors import BundleError, GitError

__all__ = ["CommitFiles", "open_repo", "read_commit"]

_LINK_MODE = 0o120000

CommitFiles = tuple[CommitInfo, dict[str, bytes]]


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise GitError("not inside a git repository", where=str(path)) from e


def read_commit(repo: git.Repo, rev: str, *, sources: Sequence[str]) -> CommitFiles:
    """The commit's metadata and the files under `sources`, plus syncer.yaml."""
    try:
        commit = repo.commit(rev)
    except (git.BadName, ValueError) as e:
        raise GitError(f"no commit {rev!r} in this repository",
                       where=str(repo.working_dir)) from e
    files = dict(_blobs(commit.tree, sources))
    if CONFIG_FILE not in files:
        raise GitError(f"commit {commit.hexsha[:12]} has no {CONFIG_FILE} at its root",
                       where=CONFIG_FILE)
    return _info(commit), files


def _info(commit: git.Commit) -> CommitInfo:
    message = commit.message if isinstance(commit.message, str) else commit.message.decode()
    return CommitInfo(
        commit=commit.hexsha,
        tree=commit.tree.hexsha,
        author=str(commit.author.name or ""),
        author_email=str(commit.author.email or ""),
        authored_at=int(commit.authored_date),
        message=message,
    )


def _blobs(tree: git.Tree, sources: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    prefixes = tuple(s.rstrip("/") for s in sources)
    for item in tree.traverse():
        if not isinstance(item, git.Blob | git.Submodule):
            continue
        path = str(item.path)
        if path != CONFIG_FILE and not _under(path, prefixes):
            continue
        if isinstance(item, git.Submodule):
            raise BundleError("submodules cannot be bundled", where=path)
        if item.mode == _LINK_MODE:
            raise BundleError("symbolic links cannot be bundled", where=path)
        yield path, item.data_stream.read()

def _under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)
