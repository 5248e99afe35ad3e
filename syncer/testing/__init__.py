"""Stand-in servers used by the tests and the demo, in place of services this machine lacks.

`syncer.testing.kubeapi` serves the Kubernetes API (kube-apiserver), `syncer.testing.walrus`
a Walrus publisher and aggregator, `syncer.testing.sui` the Sui GraphQL API with the registry
module emulated; all over plain HTTP on 127.0.0.1. Each stand-in follows the published
behaviour of the service it replaces (shared/specs) and says in its docstring what it
simplifies.
"""

from __future__ import annotations

__all__: list[str] = []
