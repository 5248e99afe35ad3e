"""The commands: one module per command or group, each with `add_parser(sub)` and a handler
that is thin over the domain modules. `common` holds the option groups they share and what
those options resolve to (home, backends, channel, release, cluster)."""

from __future__ import annotations

__all__: list[str] = []
