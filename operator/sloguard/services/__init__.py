"""Orchestration, one module per kind, between the entry points and the adapters.

Each module holds what a reconcile does as plain functions of (spec, what was observed, ``now``,
ports): they decide what to write (status, labels, holds, Events) and return it as values, or
carry a returned plan out through the ports. Ports (:mod:`.ports`) are small ``typing.Protocol``
classes the adapters implement and unit tests fake in memory. Handlers (kopf) and CLI commands are
thin glue around these functions; nothing here imports kopf or reads the clock.
"""
