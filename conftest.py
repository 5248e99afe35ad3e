"""The whole suite (tests/ and standins/tests/): where the recorded reference data is.

Tests that replay exchanges recorded against the real services, or check answers against
their published schemas, read them from `$SYNCER_SPECS_DIR`. Unless it is set, that is the
`shared/specs` folder beside this checkout, which a plain clone does not have: those tests
are then skipped with a reason naming the missing file.
"""

from __future__ import annotations

import os
from pathlib import Path

from syncer_standins import specs

os.environ.setdefault(specs.ENV_VAR,
                      str(Path(__file__).resolve().parent.parent / "shared" / "specs"))
