"""The server's state shared by every request: storage, served types, allocators, reactors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from syncer_standins.kubeapi.catalog import ResourceType
from syncer_standins.kubeapi.clock import Clock
from syncer_standins.kubeapi.faults import Faults
from syncer_standins.kubeapi.objects import Obj
from syncer_standins.kubeapi.registry import Registry
from syncer_standins.kubeapi.store import Store
from syncer_standins.kubeapi.strategy import Allocator

__all__ = ["ApiState", "Reactor", "Written"]


@dataclass(frozen=True)
class Written:
    """One committed change: the object before (None: created) and after (None: removed)."""

    rtype: ResourceType
    before: Obj | None
    after: Obj | None


# Called after every committed write.
Reactor = Callable[["ApiState", Written], None]


@dataclass
class ApiState:
    """Everything a request may read or change. Writes hold `store.lock` from read to commit."""

    store: Store = field(default_factory=Store)
    allocator: Allocator = field(default_factory=Allocator)
    reactors: list[Reactor] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    # Custom resources whose storage is still initialising: stored key -> the clock tick
    # from which it serves (requests before answer 429).
    initialising: dict[tuple[str, str], int] = field(default_factory=dict)
    deployments_ready: bool = True
    address: str = "127.0.0.1:0"
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.registry = Registry(self.store)

    def tick(self) -> None:
        """A request starts: let the clock run what is due, under the store lock."""
        with self.store.lock:
            self.clock.tick()

    def react(self, written: Written) -> None:
        for reactor in self.reactors:
            reactor(self, written)
