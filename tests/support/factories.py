"""The objects tests create, as plain dicts: sloguard's custom resources and the workloads they hold."""

from __future__ import annotations

from typing import Any

API_VERSION = "sloguard.io/v1alpha1"

#: The checkout service's availability SLI: 5xx responses over all responses.
CHECKOUT_RATIO = {"errors": 'http_requests_total{job="checkout",code=~"5.."}',
                  "total": 'http_requests_total{job="checkout"}'}


def resource(kind: str, name: str, ns: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """A sloguard.io object of ``kind`` (extra ``metadata`` such as labels or annotations merged in)."""
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name, "namespace": ns, **metadata},
            "spec": spec}


def slo(name: str, ns: str, *, service: str = "checkout", objective: float = 99.9,
        sli: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """A ServiceLevelObjective; ``sli`` defaults to the checkout ratio, ``spec`` adds or overrides fields."""
    return resource("ServiceLevelObjective", name, ns,
                    {"service": service, "objective": objective, "sli": sli or {"ratio": dict(CHECKOUT_RATIO)},
                     **spec})


def policy(name: str, ns: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An ErrorBudgetPolicy."""
    return resource("ErrorBudgetPolicy", name, ns, spec)


def deployment(name: str, ns: str, labels: dict[str, str] | None = None, *, image: str = "nginx:1.25",
               replicas: int = 1) -> dict[str, Any]:
    """A one-container Deployment whose metadata, selector and template carry ``labels`` (default app=checkout)."""
    labels = dict(labels or {"app": "checkout"})
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def statefulset(name: str, ns: str, labels: dict[str, str] | None = None, *, image: str = "nginx:1.25",
                replicas: int = 0) -> dict[str, Any]:
    """A one-container StatefulSet whose metadata, selector and template carry ``labels`` (default app=checkout)."""
    labels = dict(labels or {"app": "checkout"})
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}
