"""Orchestration per kind: plain functions of (spec, observed state, now, ports) returning a value."""
