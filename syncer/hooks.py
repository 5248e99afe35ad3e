"""Git hooks: `syncer hooks install` puts git-hooks/pre-push in place; `syncer hooks pre-push`
is what that hook runs: it publishes the pushed tip of each branch a channel follows."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TextIO

import git

from syncer import output
from syncer.backends import open_backends, publisher_key, select_profile
from syncer.config import Home, RepoConfig
from syncer.errors import GitError
from syncer.gitsource import open_repo
from syncer.publish import PublishOptions, commit_config, publish

__all__ = ["add_parser", "pushed_branches"]

_ZERO = "0" * 40
_MARKER = "syncer hooks pre-push"
_DEFAULT_LINE = 'SYNCER="${SYNCER_BIN:-syncer}"'


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("hooks", help="install or run the git pre-push hook")
    hooks = p.add_subparsers(dest="hook_command", required=True, metavar="HOOK_COMMAND")
    install = hooks.add_parser("install", help="install the pre-push hook in a repository",
                               description="Write .git/hooks/pre-push so that each `git push` "
                               "of a branch that a channel follows publishes its tip.")
    install.add_argument("--repo", type=Path, default=Path("."), help="the app repository")
    install.add_argument("--force", action="store_true",
                         help="replace a pre-push hook that syncer did not write")
    install.set_defaults(handler=_install)
    run = hooks.add_parser("pre-push", help="what the installed hook runs (reads git's stdin)",
                           description="Read the pushed refs from stdin as git gives them to "
                           "a pre-push hook and publish the tip of every pushed branch that a "
                           "channel follows. A failure exits 2, which stops the push.")
    run.add_argument("remote", nargs="?", help="remote name (from git)")
    run.add_argument("url", nargs="?", help="remote URL (from git)")
    run.set_defaults(handler=_pre_push)


def _install(args: argparse.Namespace) -> int:
    repo = open_repo(args.repo)
    target = Path(repo.git_dir) / "hooks" / "pre-push"
    if target.exists() and _MARKER not in target.read_text(errors="replace") and not args.force:
        raise GitError("a pre-push hook that syncer did not write is there; pass --force to "
                       "replace it", where=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_hook_text())
    target.chmod(0o755)
    print(f"installed {target}")
    return 0


def _hook_text() -> str:
    """The packaged hook, defaulting to the syncer that installed it."""
    text = (resources.files("syncer") / "data" / "pre-push").read_text()
    if " " in sys.executable:
        return text
    return text.replace(_DEFAULT_LINE, f'SYNCER="${{SYNCER_BIN:-{sys.executable} -m syncer}}"')


def pushed_branches(lines: TextIO) -> list[tuple[str, str]]:
    """(branch, commit) for each pushed branch that is not being deleted."""
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


def _pre_push(args: argparse.Namespace) -> int:
    home = Home(args.home) if args.home else Home()
    repo = open_repo(Path("."))
    for branch, commit in pushed_branches(sys.stdin):
        config = _commit_config(repo, commit)
        if config is None or not config.channels_for_branch(branch):
            continue
        profile = select_profile(args.profile, home=home, repo=config)
        key = publisher_key(profile, home=home)
        backends = open_backends(profile, home=home, blob_owner=key.address)
        results = publish(repo, key=key, blobs=backends.blobs,
                          ledger=backends.ledger,
                          options=PublishOptions(rev=commit, branch=branch))
        for result in results:
            verb = "published" if result.created else "already published:"
            print(f"syncer: {verb} {output.release_line(result.release)}", file=sys.stderr)
    return 0


def _commit_config(repo: git.Repo, commit: str) -> RepoConfig | None:
    """The commit's own syncer.yaml; None when the commit has none."""
    try:
        return commit_config(repo, commit)[1]
    except GitError:
        return None
