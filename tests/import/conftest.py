"""Make the equivalence helper module importable as ``equivalence``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
