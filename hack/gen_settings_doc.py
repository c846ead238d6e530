#!/usr/bin/env python3
"""docs/settings.md: every operator setting (flag, variable, default, meaning), from the Settings model.

    python hack/gen_settings_doc.py          # write docs/settings.md
    python hack/gen_settings_doc.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))

from sloguard.adapters.settings import markdown_table  # noqa: E402

OUT = ROOT / "docs" / "settings.md"

HEAD = """# Operator settings

Generated from `sloguard.adapters.settings.Settings` by `hack/gen_settings_doc.py`; do not edit by hand.

`sloguard run` takes each setting as a flag; `kopf run -m sloguard.handlers` and the chart's `env`
take it as a variable. The rules are the same for every setting:

- a flag wins over its variable, a variable over the default;
- an empty variable counts as unset, except `metrics_address` and `liveness`, where empty means off;
- booleans are `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off` (any case); anything else is refused;
- a bad value stops the operator with one line naming the flag and the variable, e.g.
  `sloguard run: --refresh-interval (SLOGUARD_REFRESH_INTERVAL): 'soon': Input should be a valid number`.

The chart (`charts/sloguard`) sets them from its values: see its README for the values table.
Prometheus connection settings (`--prometheus*` / `SLOGUARD_PROMETHEUS_*`) are described in
docs/install.md, "Connecting to Prometheus".

"""


def render() -> str:
    return HEAD + markdown_table()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", action="store_true")
    text = render()
    if p.parse_args().check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python hack/gen_settings_doc.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
