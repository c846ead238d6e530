"""Prometheus' own rule validation (``promtool check rules``) before any rule leaves sloguard.

Why promtool and not a check of our own: Prometheus refuses a whole rule file when one rule in it
is invalid (``loading groups failed ... previous rule set restored``), so one SLO with a broken
alert template would stop every team's new rules from loading. What Prometheus accepts is
defined by its Go code — PromQL parsing, label and annotation names, and Go ``text/template``
parsing of every label and annotation value — and ``promtool check rules`` runs exactly that
code. A Python re-implementation of Go templates would drift from it; the real tool does not.

What is sent: each distinct piece of the user's text once, in one run (see
:func:`user_text_rules`); the SLOs whose text is refused are then checked whole, and that verdict
is what is reported. sloguard's own templates are proven by the golden files' promtool test.

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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..api.common import Diagnostic
from ..core import conventions as c
from ..core.model import Objective
from ..core.rules import Rule, RuleGroup, group_name, make_rule_groups

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


class _Check:
    """One ``promtool check rules`` process over one rule file, started at once, waited for later."""

    def __init__(self, groups: Sequence[Mapping[str, Any]], promtool: str, timeout: float) -> None:
        self.promtool, self.deadline = promtool, time.monotonic() + timeout
        self.tmp = tempfile.TemporaryDirectory(prefix="sloguard-rules-")
        path = os.path.join(self.tmp.name, "rules.yaml")
        try:
            with open(path, "w", encoding="utf-8") as f:
                # JSON is YAML to promtool, and an order of magnitude cheaper to write than PyYAML's output
                # (dumps, not dump: only a one-shot encoding uses the json module's C encoder).
                f.write(json.dumps({"groups": [dict(g) for g in groups]}))
            self.proc = subprocess.Popen([promtool, "check", "rules", "--lint=none", path], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
        except OSError as e:
            self.tmp.cleanup()
            raise PromtoolUnavailable(f"cannot run {promtool} check rules: {e}") from e

    def problems(self) -> list[RuleProblem]:
        """Wait for the verdict: [] when Prometheus accepts the groups."""
        try:
            stdout, stderr = self.proc.communicate(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired as e:
            self.proc.kill()
            self.proc.communicate()
            raise PromtoolUnavailable(f"cannot run {self.promtool} check rules: {e}") from e
        finally:
            self.tmp.cleanup()
        if self.proc.returncode == 0:
            return []
        problems = parse_output(stderr + "\n" + stdout)
        if not problems:
            raise PromtoolUnavailable(f"{self.promtool} check rules failed ({self.proc.returncode}) without saying "
                                      f"why: {(stderr or stdout).strip()[:300]}")
        return problems


def check_rule_groups(groups: Sequence[Mapping[str, Any]], promtool: str, timeout: float = 60.0) -> list[RuleProblem]:
    """Run ``promtool check rules`` over ``groups`` (one rule file); [] when Prometheus accepts them."""
    return _Check(groups, promtool, timeout).problems()


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


#: Recordings whose expression is the user's SLI text (the 5m base rates, see ``core/rules.py``).
_USER_TEXT_RECORDS = frozenset({c.RECORD_ERRORS_5M, c.RECORD_TOTAL_5M})
#: The one group of the quick check's file.
_QUICK_GROUP = "sloguard-user-text"


#: The alert name of the carriers of the user's labels and annotations (any valid name does).
_CARRIER = "SloguardUserText"


def user_text_rules(obj: Objective, group: RuleGroup) -> list[Rule]:
    """What of ``obj``'s generated ``group`` is the user's text, as rules promtool checks alone.

    User text reaches an SLO's rules in two places: the SLI queries, which become the two 5m base
    recordings' expressions, and the alerting name, labels and annotations, which every alert tier
    carries alike. Everything else is sloguard's own templates filled with values whose syntax the
    schema restricts (service, names, severities, windows, numbers), proven by the golden files
    and their ``promtool check rules`` test. So the base recordings' expressions, an alert with the
    first tier's name, and one alert (expression ``vector(1)``) for each of the user's labels and
    annotations with the value the first tier carries, fail promtool exactly when the user's text
    would make it refuse the group: Prometheus checks an alert's name, each label and each
    annotation on its own (every value is parsed as a Go template by itself, the alert's name only
    naming the template). One label or annotation per alert lets SLOs that share one (a team, a
    runbook) send it once: parsing a template is most of promtool's time.
    """
    out = [Rule(r.expr, record=r.record) for r in group.rules if r.record in _USER_TEXT_RECORDS]
    first = next((r for r in group.rules if r.alert), None)
    if first is not None:
        out.append(Rule("vector(1)", alert=first.alert))
        out += [Rule("vector(1)", alert=_CARRIER, labels={k: v}) for k, v in first.labels.items()
                if k in obj.alerting.labels]
        out += [Rule("vector(1)", alert=_CARRIER, annotations={k: v}) for k, v in first.annotations.items()
                if k in obj.alerting.annotations]
    return out


class PendingRuleCheck:
    """Prometheus' verdict on SLOs' generated rules, its promtool run started: see :func:`rule_diagnostics`.

    Starting it does the Python work and starts promtool, a separate process; :meth:`result`
    waits for it. Between the two the caller is free to do other work (``generate`` writes its
    output meanwhile, and keeps it only when the verdict is clean).
    """

    def __init__(self, objectives: Sequence[Objective], promtool: str,
                 groups: Mapping[str, Sequence[RuleGroup]] | None = None) -> None:
        self.objectives, self.promtool = list(objectives), promtool
        self.built = {o.key: list(groups[o.key]) if groups is not None and o.key in groups else make_rule_groups(o)
                      for o in objectives}
        quick: dict[str, dict[str, Any]] = {}  # a rule's JSON -> the rule, once however many SLOs carry it
        self.carriers: dict[str, set[str]] = {}  # ... -> keys of the SLOs carrying it
        for o in objectives:
            for g in self.built[o.key]:
                for rule in user_text_rules(o, g):
                    as_dict = rule.to_dict()
                    text = json.dumps(as_dict, sort_keys=True)
                    quick.setdefault(text, as_dict)
                    self.carriers.setdefault(text, set()).add(o.key)
        self.texts = list(quick)
        self.check = _Check([{"name": _QUICK_GROUP, "rules": list(quick.values())}], promtool, 60.0) \
            if self.texts else None

    def result(self) -> dict[str, list[Diagnostic]]:
        """The findings by SLO key; only SLOs with findings appear."""
        problems = self.check.problems() if self.check is not None else []
        if not problems:
            return {}
        objectives, texts = self.objectives, self.texts
        by_group = {group_name(o): o for o in objectives}
        suspects: set[str] = set()
        for p in problems:
            if p.group == _QUICK_GROUP and p.rule is not None and 1 <= p.rule <= len(texts):
                suspects |= self.carriers[texts[p.rule - 1]]
            else:
                suspects |= {o.key for o in objectives}
        refused = [o for o in objectives if o.key in suspects]
        problems = check_rule_groups([g.to_dict() for o in refused for g in self.built[o.key]], self.promtool)
        # One finding per SLO, field and message: three alert tiers share one bad annotation.
        found: dict[tuple[str, str, str], list[RuleProblem]] = {}
        for problem in problems:
            targets = [by_group[problem.group]] if problem.group in by_group else list(refused)
            for obj in targets:
                found.setdefault((obj.key, field_path(problem, obj), problem.message), []).append(problem)
        out: dict[str, list[Diagnostic]] = {}
        for (key, path, message), probs in found.items():
            rules = ", ".join(f"{p.rule} ({p.rule_name})" for p in probs if p.rule)
            what = f"generated rule{'s' if len(probs) > 1 else ''} {rules}" if rules else "generated rules"
            out.setdefault(key, []).append(Diagnostic("error", f"Prometheus would refuse the {what}: {message}", path))
        return out


def rule_diagnostics(objectives: Sequence[Objective], promtool: str,
                     groups: Mapping[str, Sequence[RuleGroup]] | None = None) -> dict[str, list[Diagnostic]]:
    """Prometheus' verdict on every SLO's generated rules, by SLO key.

    ``groups``: the SLOs' rule groups by key when the caller has built them already.
    One promtool run checks each distinct piece of user text once (:func:`user_text_rules`);
    only when it refuses one are the whole groups of the SLOs carrying it checked, and that
    verdict is the one reported, so messages name every rule Prometheus would refuse, numbered
    as in the generated group. Only SLOs with findings appear.
    """
    return PendingRuleCheck(objectives, promtool, groups).result()


__all__ = ["ENV_VAR", "PendingRuleCheck", "PromtoolUnavailable", "RuleProblem", "check_rule_groups", "field_path",
           "find_promtool", "parse_output", "rule_diagnostics", "user_text_rules"]
