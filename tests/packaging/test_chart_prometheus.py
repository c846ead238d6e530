"""The chart's Prometheus connection values become `sloguard run` flags and Secret/ConfigMap mounts.

Every file flag the chart renders must point at a file a mounted volume provides (its mount path
plus the item's path), and the flags must parse with the operator's own parser into the same
settings the CLI takes.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from sloguard.adapters.prometheus import FLAGS
from sloguard.cli import build_parser

from .chartkit import container, one, render, render_error

FULL = {"prometheus": {
    "url": "https://mimir.monitoring:8080/prometheus",
    "timeout": 30,
    "headers": {"X-Scope-OrgID": "team-a"},
    "basicAuth": {"username": "sloguard", "passwordSecret": {"name": "mimir-basic-auth", "key": "pw"}},
    "tls": {"ca": {"configMap": "corp-ca", "key": "bundle.pem"}, "clientCertSecret": "sloguard-client"},
}}


def files_provided(docs: list[dict]) -> dict[str, tuple[str, str, str]]:
    """Path in the container -> (volume kind, object name, key) for every mounted Secret/ConfigMap item."""
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    out = {}
    for m in container(docs)["volumeMounts"]:
        v = volumes[m["name"]]
        for kind, name_key in (("secret", "secretName"), ("configMap", "name")):
            if kind in v:
                assert m.get("readOnly") is True and "subPath" not in m  # a rotated Secret must reach the file
                for item in v[kind]["items"]:
                    out[str(PurePosixPath(m["mountPath"]) / item["path"])] = (kind, v[kind][name_key], item["key"])
    return out


def test_connection_values_become_the_clis_flags_and_mounted_files(helm: str) -> None:
    docs = render(helm, FULL)
    args = container(docs)["args"]
    parsed = build_parser().parse_args(["run", *args])
    assert parsed.prometheus_url == "https://mimir.monitoring:8080/prometheus"
    assert parsed.prometheus_username == "sloguard"
    assert parsed.prometheus_headers == ["X-Scope-OrgID: team-a"]
    assert parsed.prometheus_timeout == 30.0
    assert parsed.prometheus_insecure_skip_verify is None and parsed.prometheus_bearer_token_file is None
    provided = files_provided(docs)
    assert provided[parsed.prometheus_password_file] == ("secret", "mimir-basic-auth", "pw")
    assert provided[parsed.prometheus_ca_file] == ("configMap", "corp-ca", "bundle.pem")
    assert provided[parsed.prometheus_cert_file] == ("secret", "sloguard-client", "tls.crt")
    assert provided[parsed.prometheus_key_file] == ("secret", "sloguard-client", "tls.key")
    # Every connection flag the chart can render is one the CLI knows.
    assert {a.split("=")[0] for a in args if a.startswith("--prometheus")} <= set(FLAGS.values())


def test_a_bearer_token_and_a_ca_from_a_secret(helm: str) -> None:
    docs = render(helm, {"prometheus": {"url": "https://prom:9090", "bearerTokenSecret": {"name": "tok", "key": "t"},
                                        "tls": {"ca": {"secret": "prom-ca"}, "insecureSkipVerify": True}}})
    parsed = build_parser().parse_args(["run", *container(docs)["args"]])
    provided = files_provided(docs)
    assert provided[parsed.prometheus_bearer_token_file] == ("secret", "tok", "t")
    assert provided[parsed.prometheus_ca_file] == ("secret", "prom-ca", "ca.crt")
    assert parsed.prometheus_insecure_skip_verify is True and parsed.prometheus_username is None


def test_defaults_render_only_the_url_and_no_mounts(helm: str) -> None:
    docs = render(helm, {"prometheus": {"url": "http://prometheus:9090"}})
    args = [a for a in container(docs)["args"] if a.startswith("--prometheus")]
    assert args == ["--prometheus=http://prometheus:9090"]
    assert not [p for p in files_provided(docs) if p.startswith("/etc/sloguard/prometheus")]
    assert not [a for a in container(render(helm))["args"] if a.startswith("--prometheus")]


def test_nonsense_connection_values_are_refused_with_a_reason(helm: str) -> None:
    both = {"url": "https://p", "bearerTokenSecret": {"name": "t"}, "basicAuth": {
        "username": "u", "passwordSecret": {"name": "p"}}}
    assert "either bearerTokenSecret or basicAuth" in render_error(helm, {"prometheus": both})
    assert "basicAuth.username needs passwordSecret.name" in render_error(helm, {"prometheus": {
        "basicAuth": {"username": "u"}}})
    assert "configMap or secret, not both" in render_error(helm, {"prometheus": {"tls": {"ca": {
        "configMap": "a", "secret": "b"}}}})
    assert "is not a valid HTTP header name" in render_error(helm, {"prometheus": {"headers": {"Bad Name": "x"}}})
