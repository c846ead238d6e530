"""The e2e session's control plane (tests/e2e/conftest.py), shared here."""

from tests.e2e.conftest import cluster  # noqa: F401  (a session fixture, re-exported)
