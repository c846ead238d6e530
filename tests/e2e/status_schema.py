"""Does a status match its CRD's schema? Every field declared, every value of the declared type.

The CRDs keep unknown status fields (``x-kubernetes-preserve-unknown-fields`` at the status root,
room for a newer operator), and prune unknown fields deeper down. Either way a field a writer sends
that the schema does not declare is drift: ``kubectl explain`` does not document it, or the API
server drops it silently. :func:`findings` reports both, so the e2e suite can check what each
writer sends (recorded at ``Kube.patch_status``/``Kube.apply_status``) and what the API server
stored, against the CRD the API server serves.
"""

from __future__ import annotations

from typing import Any

#: JSON types per schema type (bool is not a number here, although Python says it is an int).
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "integer": (int,),
                                       "number": (int, float), "array": (list,), "object": (dict,)}


def findings(value: Any, schema: dict[str, Any], path: str = "status") -> list[str]:
    """Every place where ``value`` is not what ``schema`` declares; [] when it matches.

    ``null`` is accepted anywhere: in a merge patch it removes the field.
    """
    if value is None:
        return []
    declared = _declared(schema)
    if declared == "int-or-string":
        ok = isinstance(value, int | str) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {type(value).__name__} where the schema says int-or-string"]
    if declared is None:
        return [] if schema.get("x-kubernetes-preserve-unknown-fields") else [f"{path}: the schema has no type"]
    wrong = _wrong_value(value, schema, declared, path)
    if wrong:
        return wrong
    if isinstance(value, dict):
        return _object_findings(value, schema, path)
    if isinstance(value, list) and "items" in schema:
        return [f for i, item in enumerate(value) for f in findings(item, schema["items"], f"{path}[{i}]")]
    return []


def _declared(schema: dict[str, Any]) -> str | None:
    """The schema's type; ``int-or-string`` for ``x-kubernetes-int-or-string``."""
    declared = schema.get("type")
    if declared is None and schema.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    return declared


def _wrong_value(value: Any, schema: dict[str, Any], declared: str, path: str) -> list[str]:
    """The value's type against the declared one, then against the enum; [] when both hold."""
    wanted = _TYPES[declared]
    if not isinstance(value, wanted) or (isinstance(value, bool) and bool not in wanted):
        return [f"{path}: {type(value).__name__} {value!r:.60} where the schema says {declared}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    return []


def _object_findings(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    """Each field against its property (or ``additionalProperties``), then the required ones."""
    out: list[str] = []
    for key, item in value.items():
        out += _field_findings(item, schema, f"{path}.{key}", key)
    out += [f"{path}.{key}: required by the schema, missing" for key in schema.get("required", []) if key not in value]
    return out


def _field_findings(item: Any, schema: dict[str, Any], where: str, key: str) -> list[str]:
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    if props is not None and key in props:
        return findings(item, props[key], where)
    if isinstance(extra, dict):
        return findings(item, extra, where)
    if props is None and schema.get("x-kubernetes-preserve-unknown-fields"):
        return []  # a free-form object, declared as such
    return [f"{where}: not in the schema"]


def status_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """The served version's status schema of a CRD object."""
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return version["schema"]["openAPIV3Schema"]["properties"]["status"]  # type: ignore[no-any-return]
