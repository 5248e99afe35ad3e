"""Stand-in servers used by the tests and the demo, in place of services this machine lacks.

`syncer.testing.kubeapi` serves the Kubernetes API (kube-apiserver) over plain HTTP on
127.0.0.1; each stand-in follows the published behaviour of the service it replaces.
"""

from __future__ import annotations

__all__: list[str] = []
