"""kopf handlers. Importing this package registers them (``kopf run -m sloguard.handlers``)."""

from . import slo, startup  # noqa: F401
