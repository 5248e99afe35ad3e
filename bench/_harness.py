"""What the benchmark scripts share: the API server they measure against, each side run as
a child process with its wall time, peak RSS and API requests, app repositories for syncer,
and the tables they print.

The API server is the cluster of `$KUBECONFIG` when it is set, else a kube-apiserver
stand-in (`syncer_standins.kubeapi`) started in this process, serving from a thread: a
Python server, one request at a time under the GIL, with no etcd behind it, so what a
request costs there is not what it costs on a real kube-apiserver.

Each side is one child process: wall time from its start to its exit, peak RSS from GNU
time's `%M` (the child's and its own children's high-water mark), and the API requests it
made. On the stand-in the server counts the requests it receives (`Clock.now`: the
requests started so far); on a real server they are counted from the sides' logs: kubectl's
`-v=6` lines (one per response), syncer's DEBUG `api request` JSON lines (syncer run
through bench/_syncer_debug.py, which sets its loggers to DEBUG), the Flux-style check's
own count. `BENCH_COUNT_FROM_LOGS=1` counts from the logs on the stand-in too, and says
where the two counts differ.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench Mark", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Mark", "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
SYNCER_DEBUG = Path(__file__).resolve().with_name("_syncer_debug.py")

Counter = Callable[[str], int]
"""Requests made by a side, counted from its stderr (when counted from logs)."""


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Run:
    """One child process: what it cost and what it said."""

    label: str
    seconds: float
    peak_rss_kib: int
    requests: int | None
    code: int
    stdout: str
    stderr: str

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024


def run_child(label: str, cmd: Sequence[str], *, server: Server | None = None,
              counter: Counter | None = None, env: dict[str, str] | None = None,
              cwd: Path | None = None, expect: Sequence[int] = (0,)) -> Run:
    """Run `cmd` to its end; raise SystemExit naming it if its exit code is not expected.

    Peak RSS comes from GNU time (`/usr/bin/time -f %M`), whose own few MiB are all the
    child inherits: a child forked straight from this process would report this process's
    RSS as its own peak when that is higher (Linux keeps the high-water mark across exec).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out, err, rss = Path(tmp, "out"), Path(tmp, "err"), Path(tmp, "rss")
        wrapped = [GNU_TIME, "-f", "%M", "-o", str(rss), "--", *cmd] if GNU_TIME else list(cmd)
        with open(out, "wb") as stdout_f, open(err, "wb") as stderr_f:
            before = server.served() if server else None
            start = time.perf_counter()
            child = subprocess.Popen(wrapped, stdout=stdout_f, stderr=stderr_f, env=env,
                                     cwd=cwd)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            after = server.served() if server else None
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout = out.read_text("utf-8", "replace")
        stderr = err.read_text("utf-8", "replace")
        peak = int(rss.read_text().split()[-1]) if GNU_TIME else int(usage.ru_maxrss)
    logged = counter(stderr) if counter is not None else None
    requests = after - before if before is not None and after is not None else logged
    if logged is not None and requests != logged:
        print(f"note: {label}: the stand-in counted {requests} requests, the logs {logged}")
    done = Run(label, seconds, peak, requests, child.returncode, stdout, stderr)
    if done.code not in expect:
        raise SystemExit(f"bench: `{' '.join(cmd)}` exited {done.code} (expected "
                         f"{' or '.join(map(str, expect))})\n{_tail(stdout)}\n{_tail(stderr)}")
    return done


def quiet(cmd: Sequence[str], *, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> str:
    """Set-up and clean-up steps: not measured; fail loudly."""
    done = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: `{' '.join(cmd)}` exited {done.returncode}\n"
                         f"{_tail(done.stdout)}\n{_tail(done.stderr)}")
    return done.stdout


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- request counts

_KUBECTL_LINE = re.compile(r"round_trippers\.go:\d+\] (?:GET|POST|PUT|PATCH|DELETE|HEAD) "
                           r"\S+ \d{3}\b")


def kubectl_requests(stderr: str) -> int:
    """Responses kubectl logged at -v=6 (`round_trippers.go:NNN] GET https://… 200 OK …`)."""
    return len(_KUBECTL_LINE.findall(stderr))


def syncer_requests(stderr: str) -> int:
    """API requests syncer logged at DEBUG: JSON log lines carrying a method and a path (or
    URL). 0 when this syncer does not log requests yet."""
    count = 0
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (isinstance(record, dict) and str(record.get("level", "")).lower() == "debug"
                and "method" in record and ("path" in record or "url" in record)):
            count += 1
    return count


# --------------------------------------------------------------------------- API server


@dataclass
class Server:
    """Where the requests go. `standin` is set when this process runs the stand-in; on it,
    `from_logs` (BENCH_COUNT_FROM_LOGS=1) also counts the requests as on a real server, from
    the sides' logs, to check those counts against the stand-in's."""

    kubeconfig: Path
    description: str
    standin: Any = None
    from_logs: bool = True

    @property
    def is_standin(self) -> bool:
        return self.standin is not None

    def served(self) -> int | None:
        """Requests the stand-in has received so far; None on a real server."""
        return int(self.standin.state.clock.now) if self.standin is not None else None

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a side: this one, with KUBECONFIG naming the server."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), **extra}

    def counter(self, counter: Counter) -> Counter | None:
        """`counter` when requests are counted from logs."""
        return counter if self.from_logs else None

    def syncer(self, *args: str) -> list[str]:
        """A measured syncer command: with its DEBUG log of requests when they are counted
        from logs (bench/_syncer_debug.py), else the console script."""
        if self.from_logs:
            return [sys.executable, str(SYNCER_DEBUG), *args]
        return syncer_cmd(*args)

    def kubectl_flags(self, *, validates: bool = True) -> tuple[str, ...]:
        """-v=6 when requests are counted from logs; on the stand-in, no client-side
        validation for the commands that validate: kubectl's validation needs
        /openapi/v3 or /openapi/v2, which the stand-in does not serve (docs/benchmarks.md)."""
        flags = ("-v=6",) if self.from_logs else ()
        return flags + (("--validate=false",) if validates and self.is_standin else ())


def standin_server() -> Any:
    """A kube-apiserver stand-in, not started (`with` starts and stops it)."""
    kubeapi = importlib.import_module("syncer_standins.kubeapi")  # only without a cluster
    return kubeapi.KubeApiServer()


@contextlib.contextmanager
def api_server(work: Path) -> Iterator[Server]:
    """The cluster of $KUBECONFIG, else a stand-in serving from a thread of this process."""
    named = os.environ.get("KUBECONFIG")
    if named and os.pathsep in named:
        raise SystemExit("bench: KUBECONFIG must name one file")
    if named:
        context = subprocess.run([KUBECTL, "config", "current-context"], capture_output=True,
                                 text=True, check=False).stdout.strip()
        yield Server(Path(named), f"the cluster of KUBECONFIG={named} (context {context or '?'})",
                     from_logs=True)
        return
    with standin_server() as standin:
        kubeconfig = standin.write_kubeconfig(work / "kubeconfig")
        yield Server(kubeconfig, f"kube-apiserver stand-in (syncer_standins.kubeapi: Python, "
                     f"threads under one GIL, started by this script) at {standin.url}",
                     standin, from_logs=os.environ.get("BENCH_COUNT_FROM_LOGS") == "1")


# --------------------------------------------------------------------------- tools


def syncer_cmd(*args: str) -> list[str]:
    """The `syncer` entry point of this Python's environment."""
    script = Path(sys.executable).with_name("syncer")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "syncer", *args]


def kubectl(server: Server, cache: Path, *args: str) -> list[str]:
    return [KUBECTL, "--kubeconfig", str(server.kubeconfig), "--cache-dir", str(cache), *args]


def warm_kubectl(server: Server, cache: Path) -> None:
    """Fill kubectl's discovery cache, as on any machine that used kubectl before."""
    quiet(kubectl(server, cache, "api-resources", "-o", "name"))


def kubectl_version() -> str:
    out = subprocess.run([KUBECTL, "version", "--client", "-o", "json"], capture_output=True,
                         text=True, check=False).stdout
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return str(json.loads(out)["clientVersion"]["gitVersion"])
    return "unknown"


def git(repo: Path, *args: str) -> str:
    return quiet(["git", "-C", str(repo), *args], env={**os.environ, **GIT_ENV})


@dataclass
class AppRepo:
    """An app repository with its own $SYNCER_HOME: init done, commits published."""

    path: Path
    home: Path
    channels: list[str] = field(default_factory=list)

    def env(self, server: Server | None = None) -> dict[str, str]:
        base = server.env() if server else dict(os.environ)
        return {**base, **GIT_ENV, "SYNCER_HOME": str(self.home)}

    def commit(self, message: str) -> None:
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)

    def publish(self) -> None:
        for channel in self.channels:
            quiet(syncer_cmd("publish", "--channel", channel), env=self.env(), cwd=self.path)


def app_repo(path: Path, home: Path, *, channels: dict[str, str],
             files: dict[str, str]) -> AppRepo:
    """A git repository with syncer.yaml naming `channels` (name → namespace), `files`
    (path → text), committed on main, `syncer init` run (key and channels on the local
    ledger under `home`)."""
    path.mkdir(parents=True)
    lines = ["version: 1", "sources: [templates]", "templates: templates", "channels:"]
    for name, namespace in channels.items():
        lines += [f"  {name}:", "    branch: main", f"    namespace: {namespace}"]
    (path / "syncer.yaml").write_text("\n".join(lines) + "\n")
    for rel, text in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "init", "-q", "-b", "main")
    repo = AppRepo(path, home, list(channels))
    quiet(syncer_cmd("init"), env=repo.env(), cwd=path)
    repo.commit("bench: the manifests")
    return repo


def cleanup_syncer(server: Server, cache: Path, channels: Sequence[str]) -> None:
    """Delete the inventory ConfigMaps (and any lock Lease) the channels left behind."""
    from syncer import inventory  # noqa: PLC0415 - the names syncer gives them

    for channel in channels:
        quiet(kubectl(server, cache, "delete", "-n", inventory.DEFAULT_NAMESPACE,
                      "--ignore-not-found", "--wait=false", "configmap",
                      inventory.configmap_name(channel)))
        quiet(kubectl(server, cache, "delete", "-n", inventory.DEFAULT_NAMESPACE,
                      "--ignore-not-found", "--wait=false", "lease",
                      inventory.lease_name(channel)))


def delete_namespaces(server: Server, cache: Path, names: Sequence[str]) -> None:
    if names:
        quiet(kubectl(server, cache, "delete", "namespace", "--ignore-not-found",
                      "--wait=false", *names))


def tag() -> str:
    """A random suffix, so that names never meet those of another run on the same server."""
    return secrets.token_hex(3)


# --------------------------------------------------------------------------- manifests


KINDS = ("ConfigMap", "ServiceAccount", "Service", "Role")
"""The kinds `objects` cycles through: object i is of kind KINDS[i % kinds]."""


def objects(namespace: str, count: int, *, kinds: int = 1) -> str:
    """The Namespace and `count` objects obj-00000… in it, as one YAML stream: ConfigMaps,
    or with `kinds` > 1 the first `kinds` of `KINDS` in turn."""
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"]
    for i in range(count):
        kind = KINDS[i % kinds]
        group = "rbac.authorization.k8s.io/v1" if kind == "Role" else "v1"
        head = (f"apiVersion: {group}\nkind: {kind}\nmetadata:\n  name: obj-{i:05d}\n"
                f"  namespace: {namespace}\n  labels:\n    app: bench\n    index: \"{i}\"\n")
        docs.append(head + _BODIES[kind].format(i=i, replicas=1 + i % 5))
    return "---\n".join(docs)


_BODIES = {
    "ConfigMap": "data:\n  greeting: hello from object {i}\n  mode: bench\n"
                 "  replicas: \"{replicas}\"\n",
    "ServiceAccount": "automountServiceAccountToken: false\n",
    "Service": "spec:\n  selector:\n    app: bench\n    index: \"{i}\"\n  ports:\n"
               "    - name: http\n      port: 80\n      targetPort: 8080\n",
    "Role": "rules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n"
            "    verbs: [get, list]\n",
}


def filler(seed: int, size: int) -> str:
    """`size` characters of hex, different for each seed: no run a store could shrink."""
    import hashlib  # noqa: PLC0415

    chunks: list[str] = []
    block = hashlib.sha256(str(seed).encode()).hexdigest()
    while len(chunks) * len(block) < size:
        chunks.append(block)
        block = hashlib.sha256(block.encode()).hexdigest()
    return "".join(chunks)[:size]


# --------------------------------------------------------------------------- reporting


def median_run(runs: Sequence[Run]) -> Run:
    """The run of median wall time (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def header(title: str, server: Server | None) -> None:
    print(f"# {title}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; machine: {machine()}")
    print(f"syncer: {syncer_commit()}")
    if server is not None:
        print(f"API server: {server.description}")
        print(f"kubectl: {kubectl_version()}")
    print(f"load average at start: {load()}", flush=True)


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cpus = os.cpu_count()
    return (f"{cpus} CPUs ({model or platform.processor() or '?'}), {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def syncer_commit() -> str:
    """Which syncer the children run: where it is imported from, and its commit."""
    import syncer  # noqa: PLC0415

    where = Path(syncer.__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(where), "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()
    if not head:
        return f"imported from {where} (not a git work tree)"
    dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "syncer"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return (f"imported from {where}, commit {head}"
            + (" with uncommitted changes in syncer/" if dirty else ""))


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> None:
    """A Markdown table, columns padded so that it also reads as text."""
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths,
                                                                   strict=True)) + " |"

    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def ratio(baseline: float, ours: float) -> str:
    """baseline / ours: above 1, ours is faster."""
    if ours <= 0:
        return "n/a"
    value = baseline / ours
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3f}x"


def requests_cell(run: Run) -> str:
    return "?" if run.requests is None else str(run.requests)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="syncer-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"work directory kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)
