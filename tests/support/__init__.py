"""Helpers shared by the test suites (no tests here).

- ``cluster``: a free loopback port, ``kubectl apply``/``get -o json`` against a TestCluster, conditions.
- ``operator``: the operator under test as a ``kopf.testing.KopfRunner`` with the standard arguments.
- ``factories``: the custom resources and workloads tests create, as plain dicts.
"""
