"""Pyrra -> sloguard, proven on behaviour: the same alerts fire and resolve at the same minutes.

The Pyrra side is Pyrra's documented rule shape for the imported object (``tests/import/fixtures/pyrra.yaml``,
``api-errors``: 99.5% over 4w, a ratio of ``http_requests_total``), written here by hand: one recording per
window, ``<metric>:burnrate<W> = sum(rate(errors[W])) / sum(rate(total[W]))``, and four ``ErrorBudgetBurn``
alerts, each ``burnrate<short> > factor * (1 - target) and burnrate<long> > factor * (1 - target)`` with
its ``for:`` and labels ``severity``, ``long``, ``short`` and the ``pyrra.dev/`` object labels.

sloguard tiers have no ``for:`` (the importer warns), so a Pyrra alert starts firing ``for`` later than
sloguard's; both must then agree within the 5m short window on when each tier fires and when it resolves.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml
from equivalence import Firing, counter_notation, timeline

from sloguard.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
TOLERANCE = 5  # minutes: the shortest (5m) window

# (severity, factor, short, long, for in minutes) for a 28-day window: Pyrra's documented table.
PYRRA_TIERS = (("critical", 14, "5m", "1h", 2), ("critical", 7, "30m", "6h", 15),
               ("warning", 2, "2h", "1d", 60), ("warning", 1, "6h", "4d", 180))


def pyrra_rules(path: Path) -> Path:
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "4d"]
    labels = {"job": "api", "slo": "api-errors", "team": "api"}
    rules: list[dict[str, object]] = [{
        "record": f"http_requests:burnrate{w}",
        "expr": f'sum(rate(http_requests_total{{code=~"5..",job="api"}}[{w}])) / '
                f'sum(rate(http_requests_total{{job="api"}}[{w}]))',
        "labels": labels,
    } for w in windows]
    for severity, factor, short, long, for_minutes in PYRRA_TIERS:
        m = 'job="api",slo="api-errors"'
        rules.append({
            "alert": "ErrorBudgetBurn",
            "expr": f"http_requests:burnrate{short}{{{m}}} > ({factor} * (1-0.995)) and "
                    f"http_requests:burnrate{long}{{{m}}} > ({factor} * (1-0.995))",
            "for": f"{for_minutes}m",
            "labels": {**labels, "severity": severity, "long": long, "short": short},
        })
    path.write_text(yaml.safe_dump({"groups": [{"name": "api-errors", "rules": rules}]}, sort_keys=False))
    return path


def sloguard_rules(tmp: Path) -> Path:
    """Import the Pyrra fixture and generate a plain rule file for api-errors only."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(["import", "--namespace", "monitoring", "--out-dir", str(tmp / "imported"), str(FIXTURES / "pyrra.yaml")])
    slo = tmp / "imported" / "monitoring.api-errors.yaml"
    assert slo.exists(), err.getvalue()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["generate", "--format", "rules", "--out-dir", str(tmp / "generated"), str(slo)])
    assert code == 0, err.getvalue()
    return tmp / "generated" / "rules.yaml"


def series(segments: list[tuple[int, float]]) -> dict[str, str]:
    """600 requests/minute; ``segments`` give the bad ones per minute, the rest are good."""
    return {'http_requests_total{job="api",code="500"}': counter_notation(segments),
            'http_requests_total{job="api",code="200"}': counter_notation([(m, 600 - e) for m, e in segments])}


def tiers_of(found: dict[tuple[tuple[str, str], ...], Firing], long_label: str) -> dict[tuple[str, str, str], Firing]:
    """(severity, long window, team) -> when it fired."""
    out = {}
    for key, firing in found.items():
        labels = dict(key)
        out[(labels["severity"], labels[long_label], labels.get("team", ""))] = firing
    return out


SCENARIOS = {
    # 100% errors for 30 minutes after a clean day: all four tiers fire (the 4d one on 30 of ~1530 minutes).
    "fast-burn": ([(1500, 0), (30, 600), (270, 0)], 1800),
    # 3x the budget rate (1.5% errors) for 20 hours after a clean day, then clean for 5 hours.
    "slow-burn": ([(1500, 0), (1200, 9), (300, 0)], 3000),
    # 0.2% errors (0.4x the budget rate) throughout: nothing may fire.
    "quiet": ([(2000, 1.2)], 2000),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_imported_pyrra_slo_fires_and_resolves_like_pyrras_own_rules(scenario: str, tmp_path: Path) -> None:
    segments, end = SCENARIOS[scenario]
    data = series(segments)
    ours = tiers_of(timeline(tmp_path, sloguard_rules(tmp_path), data, end,
                             ("alertname", "severity", "long_window", "team")), "long_window")
    theirs = tiers_of(timeline(tmp_path, pyrra_rules(tmp_path / "pyrra.yaml"), data, end,
                               ("alertname", "severity", "long", "team")), "long")
    print(f"{scenario}: sloguard {ours}\npyrra {theirs}")
    assert sorted(ours) == sorted(theirs)
    if scenario == "quiet":
        assert ours == {}
    else:
        assert ours, "the scenario must make something fire"
    waits = {(sev, long): for_ for sev, _, _, long, for_ in PYRRA_TIERS}
    for key, mine in ours.items():
        other = theirs[key]
        wait = waits[key[:2]]
        assert abs(mine.first + wait - other.first) <= TOLERANCE, (key, mine, other)
        assert abs(mine.last - other.last) <= TOLERANCE, (key, mine, other)
        # One firing period each (no flapping): resolved the minute after the last firing one.
        assert mine.count == mine.last - mine.first + 1 and other.count == other.last - other.first + 1
