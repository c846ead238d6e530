"""Loading SLO files: every problem is a located diagnostic, and `sloguard validate` never shows a traceback."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sloguard.api.common import printable
from sloguard.api.loader import load
from sloguard.core.model import RatioSLI

GOOD = """\
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api, namespace: shop}
spec:
  service: api
  objective: 99.9
  sli:
    ratio: {errors: 'http_requests_total{code=~"5.."}', total: 'http_requests_total'}
"""
RATIO_LINE = """    ratio: {errors: 'http_requests_total{code=~"5.."}', total: 'http_requests_total'}"""


def with_sli(line: str) -> str:
    return GOOD.replace(RATIO_LINE, line)


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    severity: str  # of the one expected diagnostic
    path: str  # its field path ("" for problems with the file itself)
    message: str  # a part of its message
    obj: str = "ServiceLevelObjective shop/api"  # how the object is named in the message ("" when unknown)
    extra: int = 0  # further diagnostics expected besides the one checked


CASES = [
    Case("bad_yaml_is_reported_with_line_and_column",
         "apiVersion: sloguard.io/v1alpha1\nkind: [ServiceLevelObjective\nmetadata: {}\n", "error", "",
         "line 3, column 9: invalid YAML: ", obj=""),
    # A misspelt field is unknown, and the field it should have been is then missing.
    Case("an_unknown_field_is_named_by_its_full_path", GOOD.replace("total: 'http", "totl: 'http"), "error",
         "spec.sli.ratio.totl", "unknown field (check the spelling; fields are camelCase)", extra=1),
    Case("a_wrong_kind_lists_the_kinds_we_serve", GOOD.replace("kind: ServiceLevelObjective", "kind: ServiceLevel"),
         "error", "kind", "unknown kind 'ServiceLevel'; sloguard.io kinds are ServiceLevelObjective",
         obj="ServiceLevel shop/api"),
    Case("a_wrong_api_version_says_which_one_is_served", GOOD.replace("sloguard.io/v1alpha1", "sloguard.io/v1"),
         "error", "apiVersion", "apiVersion must be 'sloguard.io/v1alpha1', got 'sloguard.io/v1'"),
    Case("a_missing_name_is_required", GOOD.replace("name: api, ", ""), "error", "metadata.name",
         "required field is missing", obj="ServiceLevelObjective shop/?"),
    Case("two_sli_kinds_are_one_too_many", GOOD + "    boolGauge: {selector: 'up'}\n", "error", "spec.sli",
         "give exactly one SLI kind (ratio, ratioQuery, latency, raw, boolGauge); got ratio, boolGauge"),
    Case("errors_and_good_together_are_rejected", GOOD.replace("total:", "good: 'ok_total', total:"), "error",
         "spec.sli.ratio", "give exactly one of errors or good"),
    Case("a_template_without_the_window_placeholder_is_rejected",
         with_sli("    ratioQuery: {errorQuery: 'sum(rate(e[5m]))', totalQuery: 'sum(rate(t[{{.window}}]))'}"),
         "error", "spec.sli.ratioQuery.errorQuery", "must contain {{.window}} where the range goes"),
    Case("a_template_that_does_not_parse_once_rendered_is_rejected",
         with_sli("    raw: {errorRatioQuery: 'sum(rate(e[{{.window}}]) / '}"),
         "error", "spec.sli.raw.errorRatioQuery", "not valid PromQL once {{.window}} is 5m"),
    Case("unparsable_promql_is_rejected_with_the_parser_message",
         GOOD.replace("total: 'http_requests_total'", "total: 'http_requests_total{'"), "error",
         "spec.sli.ratio.total", "not valid PromQL: unexpected end of input inside braces"),
    Case("an_expression_where_a_selector_belongs_is_rejected",
         GOOD.replace("total: 'http_requests_total'", "total: 'rate(http_requests_total[5m])'"), "error",
         "spec.sli.ratio.total", "must be a series selector"),
    Case("a_histogram_selector_with_an_le_matcher_is_rejected",
         with_sli("    latency: {histogram: 'h_bucket{le=\"0.25\"}', threshold: 0.25}"), "error",
         "spec.sli.latency.histogram", "must not match on 'le': sloguard adds that matcher itself"),
    Case("an_objective_that_looks_like_a_fraction_is_only_a_warning", GOOD.replace("99.9", "0.999"), "warning",
         "spec.objective", "0.999 looks like a fraction; objective is in percent (did you mean 99.9?)"),
    Case("an_unknown_timezone_is_rejected",
         GOOD.replace("objective: 99.9", "objective: 99.9\n  window: month\n  timezone: Mars/Olympus"), "error",
         "spec.timezone", "unknown timezone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)"),
    Case("a_duplicate_object_points_to_the_first_definition", GOOD + "---\n" + GOOD, "error", "metadata.name",
         "duplicate object; first defined in"),
    Case("an_objective_of_100_percent_is_out_of_range", GOOD.replace("99.9", "100"), "error", "spec.objective",
         "Input should be less than 100"),
    Case("a_short_window_not_shorter_than_the_long_one_is_rejected",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 10, shortWindow: 1h, longWindow: 1h}]\n",
         "error", "spec.alerting.burnRates[0]", "shortWindow must be shorter than longWindow"),
    Case("a_short_window_written_another_way_but_as_long_as_the_long_one_is_rejected",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 10, shortWindow: 60m, longWindow: 1h}]\n",
         "error", "spec.alerting.burnRates[0]", "shortWindow must be shorter than longWindow"),
    Case("a_tier_at_or_below_1x_is_only_a_warning",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 1, shortWindow: 30m, longWindow: 6h}]\n",
         "warning", "spec.alerting.burnRates[0].factor",
         "1x is at or below 1: it fires while the service spends no faster than its budget allows over 30d"),
    # 99.9%: every event bad is a burn of 1 / 0.001 = 1000x; 1000x can never be exceeded.
    Case("a_factor_the_objective_can_never_reach_is_a_warning",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 1000, shortWindow: 5m, longWindow: 1h},"
                " {severity: ticket, factor: 2, shortWindow: 2h, longWindow: 1d}]\n",
         "warning", "spec.alerting.burnRates[0].factor",
         "1000x can never fire: with an objective of 99.9% the highest possible burn rate (every event bad) "
         "is 1000x"),
    Case("a_long_window_beyond_a_quarter_of_the_slo_window_is_a_warning",
         GOOD.replace("objective: 99.9", "objective: 99.9\n  window: 7d")
         + "  alerting:\n    burnRates: [{severity: ticket, factor: 2, shortWindow: 6h, longWindow: 3d}]\n",
         "warning", "spec.alerting.burnRates[0].longWindow",
         "3d is longer than a quarter of the SLO window (7d): the tier notices a burn only after much of the window"),
    # 4x over 8d spends 4 x 8 / 7 = 457% of a 7-day budget before it fires.
    Case("a_long_window_beyond_the_slo_window_is_a_warning",
         GOOD.replace("objective: 99.9", "objective: 99.9\n  window: 7d")
         + "  alerting:\n    burnRates: [{severity: ticket, factor: 2, shortWindow: 1d, longWindow: 8d}]\n",
         "warning", "spec.alerting.burnRates[0].longWindow", "8d is longer than the SLO window (7d)", extra=1),
    # The lowest factor is 6x: a 6x burn spends a 30-day budget in 30d / 6 = 5 days unseen.
    Case("tiers_that_miss_slow_burns_are_a_warning",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 14.4, shortWindow: 5m, longWindow: 1h},"
                " {severity: ticket, factor: 6, shortWindow: 30m, longWindow: 6h}]\n",
         "warning", "spec.alerting.burnRates",
         "no tier fires at or below 3x (the lowest is 6x): a slow burn that spends the whole budget within 5d "
         "never alerts"),
    Case("an_alert_that_waits_as_long_as_it_looks_back_is_a_warning",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 3, shortWindow: 5m, longWindow: 1h,"
                " for: 60m}]\n",
         "warning", "spec.alerting.burnRates[0].for",
         "waits 1h, not less than its long window (1h): the burn that made it pending has left the window"),
    Case("a_zero_for_is_rejected",
         GOOD + "  alerting:\n    burnRates: [{severity: page, factor: 3, shortWindow: 5m, longWindow: 1h,"
                " for: 0m}]\n",
         "error", "spec.alerting.burnRates[0].for", "must be longer than zero"),
    # 95%: every event bad is 1 / 0.05 = 20x, and the default critical tier (7d: 13.44x) is reachable;
    # at 92%, 1 / 0.08 = 12.5x, it is not.
    Case("a_default_tier_the_objective_can_never_reach_is_a_warning_on_alerting",
         GOOD.replace("objective: 99.9", "objective: 92\n  window: 7d"), "warning", "spec.alerting",
         "default critical tier: 13.44x can never fire: with an objective of 92% the highest possible burn rate "
         "(every event bad) is 12.5x (set burnRates to choose tiers)"),
    Case("timeslices_without_a_timeslice_are_rejected",
         GOOD.replace("objective: 99.9", "objective: 99.9\n  budgetingMethod: Timeslices"), "error", "spec",
         "budgetingMethod Timeslices needs timeslice"),
    Case("an_alert_label_sloguard_sets_cannot_be_overridden",
         GOOD + "  alerting:\n    labels: {severity: low}\n", "error", "spec.alerting.labels",
         "label 'severity' is set by sloguard and cannot be overridden"),
]


@pytest.fixture
def slo_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(text: str, name: str = "slo.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_loader_reports_each_problem_with_file_object_and_field_path(case: Case, slo_file) -> None:  # type: ignore[no-untyped-def]
    path = slo_file(case.text)
    result = load([str(path)])
    matching = [d for d in result.diagnostics if d.path == case.path and case.message in d.message]
    assert len(matching) == 1, [str(d) for d in result.diagnostics]
    found = matching[0]
    assert found.severity == case.severity
    assert found.source == str(path)
    assert (f"{found.kind} {found.object}".strip() if found.object else "") == case.obj
    assert len(result.diagnostics) == 1 + case.extra, [str(d) for d in result.diagnostics]
    if case.severity == "warning":
        assert len(result.objectives) == 1


def test_a_valid_file_loads_into_one_objective_without_findings(slo_file) -> None:  # type: ignore[no-untyped-def]
    result = load([str(slo_file(GOOD))])
    assert result.diagnostics == []
    [obj] = result.objectives
    assert (obj.key, obj.service, obj.objective, obj.window.text) == ("shop/api", "api", 0.999, "30d")
    assert obj.sli == RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}')


def test_a_missing_namespace_means_default(slo_file) -> None:  # type: ignore[no-untyped-def]
    [obj] = load([str(slo_file(GOOD.replace(", namespace: shop", "")))]).objectives
    assert obj.key == "default/api"


def test_objects_of_other_apis_in_the_same_directory_are_ignored(slo_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    slo_file(GOOD)
    slo_file("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", "deploy.yaml")
    slo_file("not yaml of ours", "notes.txt")
    result = load([str(tmp_path)])
    assert (len(result.objectives), result.diagnostics) == (1, [])


def test_a_kubernetes_list_is_unpacked_into_its_items(slo_file) -> None:  # type: ignore[no-untyped-def]
    items = GOOD.replace("\n", "\n  ").rstrip()
    text = "apiVersion: v1\nkind: List\nitems:\n- " + items + "\n- " + items.replace("name: api,", "name: web,") + "\n"
    assert sorted(o.name for o in load([str(slo_file(text))]).objectives) == ["api", "web"]


def test_a_path_that_does_not_exist_is_an_error_not_an_exception(tmp_path: Path) -> None:
    result = load([str(tmp_path / "nope.yaml")])
    assert [(d.severity, d.message) for d in result.diagnostics] == [("error", "no such file or directory")]


# --- `sloguard validate` as a user runs it ------------------------------------------------------


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from sloguard.cli import main; sys.exit(main())", "validate",
         *map(str, paths)],
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_validate_exits_0_on_a_valid_file_and_says_what_it_checked(slo_file) -> None:  # type: ignore[no-untyped-def]
    proc = validate(slo_file(GOOD))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "1 object(s) checked: 0 error(s), 0 warning(s)\n"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_prints_file_object_and_path_for_every_finding_and_never_a_traceback(case: Case, slo_file) -> None:  # type: ignore[no-untyped-def]
    path = slo_file(case.text)
    proc = validate(path)
    assert proc.returncode == (0 if case.severity == "warning" else 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    findings = proc.stderr.splitlines()[:-1]  # the last line is the summary
    assert findings, proc.stderr
    for line in findings:
        assert line.startswith(f"{path}: "), line
        if case.obj:
            assert f": {case.obj}: " in line, line
    assert any(case.message in line and (not case.path or f": {case.path}: " in line) for line in findings), findings


def test_validate_exits_1_when_one_of_several_files_has_an_error(slo_file) -> None:  # type: ignore[no-untyped-def]
    good = slo_file(GOOD, "a.yaml")
    bad = slo_file(GOOD.replace("name: api,", "name: web,").replace("99.9", "100"), "b.yaml")
    proc = validate(good, bad)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{bad}: ServiceLevelObjective shop/web: spec.objective: Input should be less than 100",
        "2 object(s) checked: 1 error(s), 0 warning(s)",
    ]


def test_validate_on_the_shipped_example_exits_0() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "checkout-availability.yaml"
    proc = validate(example)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_name_with_blank_ends_is_shown_quoted_in_findings(tmp_path: Path) -> None:
    """Found by the fuzz test: a name of one space vanished from the finding."""
    f = tmp_path / "x.yaml"
    f.write_text("apiVersion: other.io/v1\nkind: SLAContract\nmetadata: {name: ' ', namespace: shop}\nspec: {}\n")
    proc = subprocess.run([sys.executable, "-m", "sloguard", "validate", str(f)], capture_output=True, text=True,
                          check=False)
    assert f"{f}: SLAContract shop/' ': apiVersion: warning: " in proc.stdout + proc.stderr, proc


@pytest.mark.parametrize(("text", "shown"), [
    ("spec.sli: a series selector such as m{a=\"b\"}", "spec.sli: a series selector such as m{a=\"b\"}"),
    ("two\nlines", "two\\u000alines"), ("tab\there", "tab\\u0009here"), ("del\x7f", "del\\u007f"),
    ("bidi \u202eevil", "bidi \\u202eevil"), ("line\u2028sep", "line\\u2028sep"), ("ümlaut ✓", "ümlaut ✓"),
    ("", ""),
])
def test_a_finding_is_printed_on_one_line_with_controls_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_a_timezone_too_long_for_a_file_name_is_a_field_error_not_a_traceback() -> None:
    from sloguard.api.common import known_timezone

    with pytest.raises(ValueError, match="unknown timezone"):
        known_timezone("Europe/" + "B" * 300)
