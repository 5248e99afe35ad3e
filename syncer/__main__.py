"""`python -m syncer` runs the command line."""

import sys

from syncer.cli import main

sys.exit(main())
