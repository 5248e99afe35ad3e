"""Stand-in servers used by the tests and the demo, in place of services this machine lacks.

`syncer_standins.kubeapi` serves the Kubernetes API (kube-apiserver), `syncer_standins.walrus`
a Walrus publisher and aggregator, `syncer_standins.sui` the Sui GraphQL API with the registry
module emulated; all over plain HTTP on 127.0.0.1. Each stand-in follows the published
behaviour of the service it replaces (its published API documents, and exchanges recorded
against the real service: see `specs`) and says in its docstring what it simplifies.
"""

from __future__ import annotations

__all__: list[str] = []
