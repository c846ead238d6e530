"""Sloth -> sloguard, proven on behaviour: `sloth generate` and the imported SLO fire and resolve together.

Both rule sets come from the same input file: Sloth's own output (``sloth generate``, v0.16.0 from the Go
module proxy) and ``sloguard import`` + ``sloguard generate``. promtool runs each over the same counters and
reports, per alert name and severity, the first and last minute it was firing. Sloth's page (ticket) alert
is one rule over two window pairs joined by ``or``; sloguard writes one alert per pair with the same
severity, so the pair of sloguard alerts is compared, merged minute by minute, with Sloth's one.
Routing labels carried on both sides (severity and the shared labels) are part of the comparison key.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest
import yaml
from equivalence import counter_notation, timeline, values

from sloguard.cli import main
from sloguard.core.windows import parse_duration

FIXTURES = Path(__file__).parent / "fixtures"
TOLERANCE = 5  # minutes: the shortest (5m) window


def sloguard_rules(tmp: Path, fixture: str) -> Path:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(["import", "--out-dir", str(tmp / "imported"), str(FIXTURES / fixture)])
        code = main(["generate", "--format", "rules", "--out-dir", str(tmp / "generated"), str(tmp / "imported")])
    assert code == 0, err.getvalue()
    return tmp / "generated" / "rules.yaml"


def sloth_rules(sloth: Path, tmp: Path, fixture: str) -> Path:
    """`sloth generate` on the fixture (without the SLOs sloguard refuses: an SLI plugin Sloth lacks too)."""
    (tmp / "sloth" / "windows").mkdir(parents=True)
    docs = list(yaml.safe_load_all((FIXTURES / fixture).read_text()))
    args = []
    for i, doc in enumerate(docs):
        if doc.get("kind") == "AlertWindows":  # Sloth reads these from a directory (-w)
            (tmp / "sloth" / "windows" / f"{i}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
            args = ["--slo-period-windows-path", str(tmp / "sloth" / "windows")]
            continue
        spec = doc.get("spec", doc)
        spec["slos"] = [s for s in spec["slos"] if "plugin" not in s["sli"]]
    docs = [d for d in docs if d.get("kind") != "AlertWindows"]
    source = tmp / "sloth" / "input.yaml"
    source.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    out = tmp / "sloth" / "generated.yaml"
    proc = subprocess.run([str(sloth), "generate", "-i", str(source), "-o", str(out), *args],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    # For Kubernetes objects Sloth writes a PrometheusRule; promtool wants the plain groups.
    groups = [g for d in yaml.safe_load_all(out.read_text()) if d
              for g in (d["spec"]["groups"] if d.get("kind") == "PrometheusRule" else d["groups"])]
    rules = tmp / "sloth" / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return rules


def series(job: str, segments: list[tuple[int, float]]) -> dict[str, str]:
    """600 requests/minute; ``segments`` give the bad (5xx) ones per minute, the rest are 200s."""
    return {f'http_requests_total{{job="{job}",code="500"}}': counter_notation(segments),
            f'http_requests_total{{job="{job}",code="200"}}': counter_notation([(m, 600 - e) for m, e in segments])}


SCENARIOS = {
    # 100% errors for 30 minutes after a clean day: page and ticket fire; the ticket's 3d/6h pair resolves
    # once the outage leaves its 6h window (minute ~1890).
    "fast-burn": ([(1500, 0), (30, 600), (420, 0)], 1950),
    # 5x the budget rate (0.5% errors for 99.9%, scaled to the case's objective) for 20 hours after a clean
    # day, then 400 clean minutes: tickets (3x over 1d/2h, 1x over 3d/6h), not the default page's 6x.
    "slow-burn": ([(1500, 0), (1200, 3), (400, 0)], 3100),
    # 0.05% errors (half the budget rate) throughout: nothing may fire.
    "quiet": ([(2000, 0.3)], 2000),
}

CASES = {
    # fixture, job, alert name, sloguard's grouping labels, Sloth's (same names, or sloth_severity for severity)
    "prometheus-v1": ("sloth-service.yml", "checkout", "CheckoutAvailability",
                      ("severity", "category", "owner", "tier"), ("severity", "category", "owner", "tier")),
    "k8s-crd": ("sloth-k8s.yaml", "search", "SearchAvailability",
                ("severity", "team", "channel"), ("severity", "team", "channel")),
    # Custom AlertWindows (2m/30m, 15m/3h, 1h/12h, 3h/36h); no severity labels: Sloth's sloth_severity.
    "alert-windows": ("sloth-windows.yaml", "orders", "OrdersAvailability", ("severity",), ("sloth_severity",)),
}


def _key(found: dict, names: tuple[str, ...]) -> dict[tuple[str, ...], object]:
    return {tuple(dict(k).get(n, "") for n in names): v for k, v in found.items()}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_sloth_slo_fires_and_resolves_like_sloth_generate(case: str, scenario: str, sloth_bin: Path,
                                                                   tmp_path: Path) -> None:
    fixture, job, alert, ours_by, theirs_by = CASES[case]
    segments, end = SCENARIOS[scenario]
    budget_scale = {"prometheus-v1": 1, "k8s-crd": 5, "alert-windows": 1}[case]  # 99.9% vs 99.5%: five times the budget
    if scenario != "fast-burn":
        segments = [(m, e * budget_scale) for m, e in segments]
    data = series(job, segments)
    matcher = f'alertname="{alert}"'
    ours = _key(timeline(tmp_path, sloguard_rules(tmp_path, fixture), data, end, ours_by, matcher), ours_by)
    theirs = _key(timeline(tmp_path, sloth_rules(sloth_bin, tmp_path, fixture), data, end, theirs_by, matcher),
                  theirs_by)
    print(f"{case} {scenario}:\n  sloguard {ours}\n  sloth    {theirs}")
    assert sorted(ours) == sorted(theirs)
    if scenario == "quiet":
        assert ours == {}
    else:
        assert ours, "the scenario must make something fire"
    if scenario == "slow-burn":
        # 5x the budget rate: the tickets (3x, 1x) fire; so does the custom windows' slow page (4.8x).
        expected = {"prometheus-v1": {"warning"}, "k8s-crd": {"ticket"}, "alert-windows": {"page", "ticket"}}
        assert {k[0] for k in ours} == expected[case], ours
    for key, mine in ours.items():
        other = theirs[key]
        assert mine.last < end - TOLERANCE, f"{key} must resolve within the scenario"
        assert abs(mine.first - other.first) <= TOLERANCE, (key, mine, other)
        assert abs(mine.last - other.last) <= TOLERANCE, (key, mine, other)
        assert mine.count == mine.last - mine.first + 1 and other.count == other.last - other.first + 1


# Sloth writes recording rules only for its openslo/v1alpha subset (no alerts), so the proof there is the
# error ratio both rule sets record for each window, at minutes where 0.5% errors started 20 hours
# earlier (every window up to 6h is inside the burn, 1d and 3d straddle its start) and 300 minutes
# after it stopped.
RATIO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@pytest.mark.parametrize("minute", [2700, 3000])
def test_sloths_openslo_subset_records_the_same_error_ratios_as_the_imported_slo(minute: int, sloth_bin: Path,
                                                                                 tmp_path: Path) -> None:
    fixture = "openslo-v1alpha.yml"
    data = series("my-service", [(1500, 0), (1200, 3), (400, 0)])
    ours = values(tmp_path, sloguard_rules(tmp_path, fixture), data, minute,
                  [f"sloguard:sli_error_ratio:rate{w}" for w in RATIO_WINDOWS])
    (tmp_path / "sloth").mkdir()
    out = tmp_path / "sloth" / "rules.yaml"
    proc = subprocess.run([str(sloth_bin), "generate", "-i", str(FIXTURES / fixture), "-o", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "alert:" not in out.read_text()
    theirs = values(tmp_path, out, data, minute, [f"slo:sli_error:ratio_rate{w}" for w in RATIO_WINDOWS])
    print(dict(zip(RATIO_WINDOWS, zip(ours, theirs, strict=True), strict=True)))
    for window, mine, other in zip(RATIO_WINDOWS, ours, theirs, strict=True):
        # The alerts' +-5m, as a ratio: sloguard builds every window from 5m rates, so at a window's edge it
        # sees up to 5 more (or fewer) minutes of the 0.5% burn than rate() over the window does.
        minutes = parse_duration(window) / 60
        assert abs(mine - other) <= 0.005 * TOLERANCE / minutes, (window, mine, other)
    if minute == 2700:
        assert ours[:5] == pytest.approx([0.005] * 5)  # the burn's own rate, inside every window up to 6h
        assert theirs[:5] == pytest.approx([0.005] * 5)
