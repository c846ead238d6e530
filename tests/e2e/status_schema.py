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
    declared = schema.get("type")
    if declared is None and schema.get("x-kubernetes-int-or-string"):
        declared = "int-or-string"
    if declared == "int-or-string":
        ok = isinstance(value, int | str) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {type(value).__name__} where the schema says int-or-string"]
    if declared is None:
        return [] if schema.get("x-kubernetes-preserve-unknown-fields") else [f"{path}: the schema has no type"]
    wanted = _TYPES[declared]
    if not isinstance(value, wanted) or (isinstance(value, bool) and bool not in wanted):
        return [f"{path}: {type(value).__name__} {value!r:.60} where the schema says {declared}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    out: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}"
            if props is not None and key in props:
                out += findings(item, props[key], where)
            elif isinstance(extra, dict):
                out += findings(item, extra, where)
            elif props is None and schema.get("x-kubernetes-preserve-unknown-fields"):
                continue  # a free-form object, declared as such
            else:
                out.append(f"{where}: not in the schema")
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{path}.{key}: required by the schema, missing")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += findings(item, schema["items"], f"{path}[{i}]")
    return out


def status_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """The served version's status schema of a CRD object."""
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return version["schema"]["openAPIV3Schema"]["properties"]["status"]  # type: ignore[no-any-return]
