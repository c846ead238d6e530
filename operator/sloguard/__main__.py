"""`python -m sloguard` is `sloguard`."""

import sys

from .cli import main

sys.exit(main())
