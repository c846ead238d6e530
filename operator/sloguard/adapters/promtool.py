"""Prometheus' own rule validation (``promtool check rules``) before any rule leaves sloguard.

Why promtool and not a check of our own: Prometheus refuses a whole rule file when one rule in it
is invalid (``loading groups failed ... previous rule set restored``), so one SLO with a broken
alert template would stop every team's new rules from loading. What Prometheus accepts is
defined by its Go code — PromQL parsing, label and annotation names, and Go ``text/template``
parsing of every label and annotation value — and ``promtool check rules`` runs exactly that
code. A Python re-implementation of Go templates would drift from it; the real tool does not.

The binary is found once at startup (``--promtool`` / ``SLOGUARD_PROMTOOL``, else ``promtool`` on
``PATH``); when it is missing the operator refuses to start rather than skip the check. The image
builds it from the Go module proxy (see the Dockerfile).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..api.common import Diagnostic
from ..core.model import Objective
from ..core.rules import group_name, make_rule_groups

ENV_VAR = "SLOGUARD_PROMTOOL"


class PromtoolUnavailable(RuntimeError):
    """promtool cannot be found or run; the message says how to provide it."""


@dataclass(frozen=True)
class RuleProblem:
    """One finding of ``promtool check rules`` about one rule of one group."""

    group: str
    message: str
    rule: int | None = None  # 1-based index within the group, as promtool counts
    rule_name: str = ""
    #: ``("annotation", "summary")``, ``("label", "team")``, ``("expr", "")`` or ``("", "")``.
    part: tuple[str, str] = ("", "")

    def __str__(self) -> str:
        where = f"group {self.group!r}" + (f", rule {self.rule} ({self.rule_name})" if self.rule else "")
        return f"{where}: {self.message}"


# /f.yaml: [12:3: ]group "g", rule 2, "Name": annotation "summary": template: ...: unexpected EOF
_LINE = re.compile(r'^.*?: (?:\d+:\d+: )?group "(?P<group>[^"]*)", rule (?P<rule>\d+), "(?P<name>[^"]*)": '
                   r'(?P<detail>.*)$')
_PART = re.compile(r'^(?P<kind>annotation|label) "(?P<key>[^"]*)": (?P<msg>.*)$')


def find_promtool(explicit: str | None = None) -> str:
    """The promtool to use: ``explicit``, ``$SLOGUARD_PROMTOOL``, or ``promtool`` on ``PATH``."""
    wanted = explicit or os.environ.get(ENV_VAR) or "promtool"
    path = shutil.which(wanted)
    if path is None:
        raise PromtoolUnavailable(
            f"promtool not found ({wanted!r}): sloguard checks every generated rule with Prometheus' own "
            f"validation before applying it. Install promtool (the image ships it), put it on PATH, or "
            f"point {ENV_VAR} / --promtool at it.")
    return path


def parse_output(text: str) -> list[RuleProblem]:
    """promtool's findings, one per line it printed about a rule; other lines are kept whole."""
    out: list[RuleProblem] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("Checking ") or line in ("FAILED:", "SUCCESS"):
            continue
        m = _LINE.match(line)
        if m is None:
            if ": " in line:  # "<file>: <problem>" about the file as a whole
                out.append(RuleProblem("", line.split(": ", 1)[1]))
            continue
        detail = m["detail"]
        part: tuple[str, str] = ("", "")
        if (p := _PART.match(detail)) is not None:
            part = (p["kind"], p["key"])
        elif "parse expression" in detail:
            part = ("expr", "")
        out.append(RuleProblem(m["group"], detail, int(m["rule"]), m["name"], part))
    return out


def check_rule_groups(groups: Sequence[Mapping[str, Any]], promtool: str, timeout: float = 60.0) -> list[RuleProblem]:
    """Run ``promtool check rules`` over ``groups`` (one rule file); [] when Prometheus accepts them."""
    with tempfile.TemporaryDirectory(prefix="sloguard-rules-") as tmp:
        path = os.path.join(tmp, "rules.yaml")
        with open(path, "w", encoding="utf-8") as f:
            # JSON is YAML to promtool, and an order of magnitude cheaper to write than PyYAML's output.
            json.dump({"groups": [dict(g) for g in groups]}, f)
        try:
            proc = subprocess.run([promtool, "check", "rules", "--lint=none", path], capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise PromtoolUnavailable(f"cannot run {promtool} check rules: {e}") from e
    if proc.returncode == 0:
        return []
    problems = parse_output(proc.stderr + "\n" + proc.stdout)
    if not problems:
        raise PromtoolUnavailable(f"{promtool} check rules failed ({proc.returncode}) without saying why: "
                                  f"{(proc.stderr or proc.stdout).strip()[:300]}")
    return problems


def field_path(problem: RuleProblem, obj: Objective) -> str:
    """Where in the SLO a finding comes from: the user's annotation or label, the SLI, or the spec."""
    kind, key = problem.part
    if kind == "annotation" and key in obj.alerting.annotations:
        return f"spec.alerting.annotations.{key}"
    if kind == "label" and key in obj.alerting.labels:
        return f"spec.alerting.labels.{key}"
    if kind == "expr":
        return "spec.sli"
    return "spec"


def rule_diagnostics(objectives: Sequence[Objective], promtool: str) -> dict[str, list[Diagnostic]]:
    """Prometheus' verdict on every SLO's generated rules (one promtool run), by SLO key.

    Only SLOs with findings appear. Messages name the rule and say Prometheus refused it.
    """
    by_group = {group_name(o): o for o in objectives}
    groups = [g.to_dict() for o in objectives for g in make_rule_groups(o)]
    # One finding per SLO, field and message: three alert tiers share one bad annotation.
    found: dict[tuple[str, str, str], list[RuleProblem]] = {}
    for problem in check_rule_groups(groups, promtool) if groups else []:
        targets = [by_group[problem.group]] if problem.group in by_group else list(objectives)
        for obj in targets:
            found.setdefault((obj.key, field_path(problem, obj), problem.message), []).append(problem)
    out: dict[str, list[Diagnostic]] = {}
    for (key, path, message), problems in found.items():
        rules = ", ".join(f"{p.rule} ({p.rule_name})" for p in problems if p.rule)
        what = f"generated rule{'s' if len(problems) > 1 else ''} {rules}" if rules else "generated rules"
        out.setdefault(key, []).append(Diagnostic("error", f"Prometheus would refuse the {what}: {message}", path))
    return out


__all__ = ["ENV_VAR", "PromtoolUnavailable", "RuleProblem", "check_rule_groups", "field_path", "find_promtool",
           "parse_output", "rule_diagnostics"]
