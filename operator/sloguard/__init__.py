"""sloguard: service levels made real on Kubernetes."""

__version__ = "0.1.0"
