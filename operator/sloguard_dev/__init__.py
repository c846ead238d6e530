"""Development-only tools for sloguard: not part of the ``sloguard`` wheel or the container image.

``sloguard_dev.cluster`` runs a real local control plane (etcd, kube-apiserver,
kube-controller-manager) from ``hack/build-k8s.sh`` binaries; ``make demo``, ``sloguard dev``,
the e2e/packaging/security test fixtures and the benchmarks use it. It is importable from a
checkout (``make install`` is an editable install that puts ``operator/`` on the path), never
from an installed wheel.
"""
