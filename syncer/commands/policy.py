"""`syncer policy test [DIR]` and `syncer policy install`: a repository's policies checked
against fixtures, as `kyverno test` does; the policies installed in a cluster."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer.commands import common

if TYPE_CHECKING:
    from syncer.policytest import Outcome
    from syncer.vap import PolicySet

__all__ = ["add_parser"]

_MAX_FILE = 4 * 1024 * 1024


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("policy", help="test policies against fixtures; install them in a "
                       "cluster", description="ValidatingAdmissionPolicies: the default set "
                       "shipped with syncer and a repository's policies/.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    t = verbs.add_parser("test", help="run the test files of a policies directory",
                         description="Run every tests/*.yaml of DIR (default ./policies): "
                         "evaluate the policies (the default set and DIR's) on the listed "
                         "resources and compare each verdict with the expected admit, deny "
                         "or warn. Exit 0 when all pass, 1 on any mismatch, 2 on bad input.")
    t.add_argument("dir", nargs="?", type=Path, default=Path("policies"),
                   help="the policies directory (default ./policies)")
    t.add_argument("--defaults", action="store_true",
                   help="run the default set's own tests instead")
    t.set_defaults(handler=run_test)
    i = verbs.add_parser("install", help="print or apply the policies for a cluster",
                         description="Print the default policies and DIR's, unchanged, "
                         "without the bundle-only ones (the plaintext-Secret policy); with "
                         "--apply apply them with server-side apply, as `syncer install` "
                         "applies, so that the cluster's admission enforces them.")
    i.add_argument("dir", nargs="?", type=Path, default=Path("policies"),
                   help="the repository's policies directory (default ./policies; "
                   "skipped when absent)")
    i.add_argument("--apply", action="store_true", help="apply them to the cluster")
    i.add_argument("--dry-run", action="store_true",
                   help="with --apply: print what would change, change nothing")
    common.cluster_args(i, inventory=False)
    i.set_defaults(handler=run_install)


# --- test ------------------------------------------------------------------------------------

def run_test(args: argparse.Namespace) -> int:
    from syncer import policyfiles  # noqa: PLC0415
    from syncer.errors import PolicyError  # noqa: PLC0415

    if args.defaults:
        base = Path(str(resources.files("syncer").joinpath("data", "policies")))
        extra: PolicySet | None = policyfiles.defaults()
    else:
        base, extra = args.dir, None
    tests = sorted((base / "tests").glob("*.yaml")) if (base / "tests").is_dir() else []
    if not tests:
        raise PolicyError("no test files (tests/*.yaml)", where=str(base))
    rows = [row for path in tests for row in _run_file(path, base, extra)]
    _print_table(rows)
    failed = sum(1 for _, o in rows if not o.passed)
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _run_file(path: Path, base: Path, extra: PolicySet | None) -> list[tuple[str, Outcome]]:
    from syncer import policyfiles, policytest, yamlsafe  # noqa: PLC0415
    from syncer.errors import PolicyError  # noqa: PLC0415

    where = str(path)
    test = policytest.parse_test(yamlsafe.load(_read(path), where=where, error=PolicyError),
                                 where=where)
    if extra is not None:
        policies = extra
    else:
        paths = ([path.parent / p for p in test.policies] if test.policies is not None
                 else sorted(base.glob("*.yaml")))
        policies = policyfiles.defaults() + _policy_files(paths)
    objects = [o for r in test.resources for o in _documents(path.parent / r) if o is not None]
    return [(path.name, o) for o in policytest.run_test(test, policies, objects, where=where)]


def _policy_files(paths: list[Path]) -> PolicySet:
    from syncer import vap  # noqa: PLC0415

    return vap.parse((str(p), doc) for p in paths for doc in _documents(p))


def _documents(path: Path) -> list[Any]:
    from syncer import yamlsafe  # noqa: PLC0415
    from syncer.errors import PolicyError  # noqa: PLC0415

    return yamlsafe.load_all(_read(path), where=str(path), error=PolicyError)


def _read(path: Path) -> bytes:
    from syncer.errors import PolicyError  # noqa: PLC0415

    try:
        if path.stat().st_size > _MAX_FILE:
            raise PolicyError(f"larger than {_MAX_FILE} bytes", where=str(path))
        return path.read_bytes()
    except OSError as e:
        raise PolicyError(f"cannot be read ({e.strerror})", where=str(path)) from e


def _print_table(rows: list[tuple[str, Outcome]]) -> None:
    header = ("TEST", "POLICY", "RESOURCE", "EXPECTED", "GOT", "RESULT")
    lines = [header] + [(name, o.expected.policy, o.expected.resource, o.expected.result,
                         o.got, "pass" if o.passed else "FAIL") for name, o in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    for name, o in rows:
        if not o.passed and o.message:
            print(f"{name}: {o.expected.policy} on {o.expected.resource}: {o.message}")


# --- install -----------------------------------------------------------------------------------

def run_install(args: argparse.Namespace) -> int:
    from syncer import output, policyfiles, policyinstall  # noqa: PLC0415

    policies = policyfiles.defaults()
    if args.dir.is_dir():
        policies = policies + _policy_files(sorted(args.dir.glob("*.yaml")))
    selection = policyinstall.select(policies)
    for name in selection.skipped:
        print(f"syncer: skipped {name}: bundle-only (a cluster sees Secrets decrypted)",
              file=sys.stderr)
    if not args.apply:
        print(output.manifests(selection.objects), end="")
        return 0
    return _apply(args, policyinstall.build(selection.objects))


def _apply(args: argparse.Namespace, loaded: Any) -> int:
    from syncer import output, policyinstall  # noqa: PLC0415
    from syncer.cluster import connect  # noqa: PLC0415

    cluster = connect(kubeconfig=args.kubeconfig, context=args.context)
    result = policyinstall.apply(cluster, loaded, dry_run=args.dry_run)
    changes = result.observed.changes
    for line in output.change_lines(changes, dry_run=args.dry_run):
        print(line)
    print(output.summary(changes, dry_run=args.dry_run))
    return 0
