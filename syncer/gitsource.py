"""The git adapter: the files and metadata of one commit, read from its tree, not the work tree;
and, for `syncer diff worktree`, the same selection of files read from the work tree."""

from __future__ import annotations

import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import git

from syncer.bundle import CommitInfo, Limits
from syncer.config import CONFIG_FILE
from syncer.errors import BundleError, GitError

__all__ = ["WORK_TREE", "CommitFiles", "commit_id", "merge_base", "open_repo", "read_commit",
           "read_work_tree"]

_LINK_MODE = 0o120000
_LIMITS = Limits()

CommitFiles = tuple[CommitInfo, dict[str, bytes]]

WORK_TREE = "work tree"
"""What stands for the commit of files read from the work tree."""


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise GitError("not inside a git repository", where=str(path)) from e


def read_commit(repo: git.Repo, rev: str, *, sources: Sequence[str]) -> CommitFiles:
    """The commit's metadata and the files under `sources`, plus syncer.yaml."""
    commit = _commit(repo, rev)
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


def commit_id(repo: git.Repo, rev: str) -> str:
    """The full ID of the commit `rev` names."""
    return str(_commit(repo, rev).hexsha)


def merge_base(repo: git.Repo, base: str, head: str) -> str:
    """The best common ancestor of two revisions, as `git merge-base` finds it."""
    found = _commit(repo, base), _commit(repo, head)
    bases = repo.merge_base(*found)
    if not bases:
        raise GitError(f"{base!r} and {head!r} have no common ancestor",
                       where=str(repo.working_dir))
    return str(bases[0].hexsha)


def read_work_tree(repo: git.Repo, *, sources: Sequence[str],
                   limits: Limits = _LIMITS) -> CommitFiles:
    """The files under `sources`, plus syncer.yaml, as they are on disk: those git tracks
    and those it would add (not ignored), as `read_commit` would find them once committed.
    Links and submodules are refused as in a commit; a file over the bundle's per-file cap
    is read no further than the cap, for `bundle.build` to refuse."""
    root = Path(str(repo.working_tree_dir))
    listed = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard")
    prefixes = tuple(s.rstrip("/") for s in sources)
    paths = sorted({p for p in listed.split("\0") if p == CONFIG_FILE or _under(p, prefixes)})
    files = _read_files(root, paths, limits)
    if CONFIG_FILE not in files:
        raise GitError(f"the work tree has no {CONFIG_FILE} at its root", where=CONFIG_FILE)
    info = CommitInfo(commit=WORK_TREE, tree="", author="", author_email="", authored_at=0,
                      message="the work tree, uncommitted")
    return info, files


def _read_files(root: Path, paths: Sequence[str], limits: Limits) -> dict[str, bytes]:
    """The files that exist, read until the bundle's caps are passed (then refused)."""
    if len(paths) > limits.max_files:
        raise BundleError(f"{len(paths)} files, over the cap of {limits.max_files}",
                          where="work tree")
    files: dict[str, bytes] = {}
    total = 0
    for path in paths:
        data = _read_file(root, path, limits)
        if data is None:
            continue
        total += len(data)
        if total > limits.max_bytes:
            raise BundleError(f"sources over the cap of {limits.max_bytes} bytes",
                              where="work tree")
        files[path] = data
    return files


def _read_file(root: Path, path: str, limits: Limits) -> bytes | None:
    """The file's bytes, capped; None when it is gone (deleted, not yet committed)."""
    try:
        mode = (root / path).lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        raise BundleError("symbolic links cannot be bundled", where=path)
    if stat.S_ISDIR(mode):
        raise BundleError("submodules cannot be bundled", where=path)
    if not stat.S_ISREG(mode):
        raise BundleError("only regular files can be bundled", where=path)
    with (root / path).open("rb") as handle:
        return handle.read(limits.max_file_bytes + 1)


def _commit(repo: git.Repo, rev: str) -> git.Commit:
    try:
        return repo.commit(rev)
    except (git.BadName, ValueError) as e:
        raise GitError(f"no commit {rev!r} in this repository",
                       where=str(repo.working_dir)) from e
