"""An ErrorBudgetPolicy object as admission sees it -> :class:`sloguard.core.governance.Governed`.

Read leniently from the stored object (the API server has already checked it against the CRD
schema): absent fields take the defaults of :mod:`sloguard.api.policy`, exactly as the CEL of the
chart's governance policy reads them with ``orValue``. An old object stored before a schema
tightening still converts, so a held policy can always be compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import governance as core
from ..core.policy import ACTION_RANK
from .policy import EnforcementSpec

#: Enforcement defaults of the CRD's models, shared with the CEL (``orValue``).
DEFAULT_MODE: str = EnforcementSpec.model_fields["mode"].default
DEFAULT_MECHANISM: str = EnforcementSpec.model_fields["mechanism"].default
DEFAULT_FAILURE_POLICY: str = EnforcementSpec.model_fields["failure_policy"].default


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def selector_key(selector: Any) -> core.SelectorKey:
    sel = _map(selector)
    labels = tuple(sorted((str(k), str(v)) for k, v in _map(sel.get("matchLabels")).items()))
    exprs = tuple((str(e.get("key", "")), str(e.get("operator", "")), tuple(str(v) for v in e.get("values") or []))
                  for e in sel.get("matchExpressions") or [] if isinstance(e, Mapping))
    return labels, exprs


def _level_row(level: Mapping[str, Any], rank: int) -> core.LevelRow:
    when = _map(level.get("when"))
    if when:
        return core.LevelRow(float(when.get("consumedAbove", 0)), rank, str(when.get("cause", "")))
    return core.LevelRow(float(level.get("remainingBelow", 0)), rank)


def governed(spec: Any) -> core.Governed:
    """The strictness-relevant facts of a policy ``spec`` (a dict as stored), defaults filled in."""
    s = _map(spec)
    default = core.Governed()

    def rank(action: Any) -> int:
        return ACTION_RANK.get(str(action), 0)

    levels = (tuple(_level_row(_map(x), rank(_map(x).get("action"))) for x in s["levels"])
              if isinstance(s.get("levels"), list) else default.levels)
    burns = (tuple(core.BurnRow(str(x.get("window", "")), float(x.get("above", 0)), rank(x.get("action")))
                   for x in s["burnRates"]) if isinstance(s.get("burnRates"), list) else default.burn_rules)
    recovery, exceptions, enforcement = _map(s.get("recovery")), _map(s.get("exceptions")), _map(s.get("enforcement"))
    classes = exceptions.get("classes")
    return core.Governed(
        levels=levels,
        burn_rules=burns,
        unfreeze_above=float(recovery.get("unfreezeAbove", default.unfreeze_above)),
        exception_classes=tuple(str(x) for x in classes) if isinstance(classes, list) else default.exception_classes,
        mode=str(enforcement.get("mode", DEFAULT_MODE)),
        mechanism=str(enforcement.get("mechanism", DEFAULT_MECHANISM)),
        failure_policy=str(enforcement.get("failurePolicy", DEFAULT_FAILURE_POLICY)),
        targets=tuple((str(_map(t).get("kind", "")), selector_key(_map(t).get("selector")))
                      for t in s.get("targets") or []),
        slos=tuple(str(x) for x in s["slos"]) if isinstance(s.get("slos"), list) else None,
        slo_selector=selector_key(s["sloSelector"]) if isinstance(s.get("sloSelector"), Mapping) else None,
    )


def review(operation: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
           user: str = "") -> tuple[str, str] | None:
    """``(what, denial message)`` when a change needs ``override``; else ``None``.

    ``what`` is "deleting it" or "weakening <paths>", the same words as the message and the
    chart policy's audit annotation.

    Only UPDATE and DELETE of a policy whose stored ``status.action`` holds are governed; the
    namespace controller deleting a namespace's policies is not.
    """
    if old is None or operation not in ("UPDATE", "DELETE"):
        return None
    if operation == "DELETE" and user in core.NAMESPACE_CONTROLLERS:
        return None
    action = _map(old.get("status")).get("action")
    if not core.is_holding(action):
        return None
    meta = _map(old.get("metadata"))
    ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    if operation == "DELETE":
        return "deleting it", core.deletion_denial(ns, name, str(action))
    paths = core.weakened(governed(old.get("spec")), governed(_map(new).get("spec")))
    if not paths:
        return None
    return f"weakening {', '.join(paths)}", core.weakening_denial(ns, name, str(action), paths)
