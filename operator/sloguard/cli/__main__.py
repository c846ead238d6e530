"""`python -m sloguard.cli` is `sloguard`."""

import sys

from . import main

sys.exit(main())
