"""The ``sloguard`` command as a shell, a CI step or kubectl runs it: exit codes, -o, --out-dir,
stdin, kube flags, completion and the kubectl plugin (docs/cli.md).

Every test runs the real CLI in a subprocess. Exit codes (one table for every command):
0 done, 1 findings, 2 usage, 3 could not reach the API server or Prometheus. "Could not reach"
is proven against ports on 127.0.0.1 that nothing listens on.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SLO_FILE = REPO_ROOT / "examples" / "checkout-availability.yaml"
SLA_FILE = REPO_ROOT / "examples" / "acme-sla.yaml"

SLO = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
       "metadata": {"name": "checkout", "namespace": "shop"},
       "spec": {"service": "checkout", "objective": 99.9, "window": "30d",
                "sli": {"ratio": {"errors": 'http_requests_total{code=~"5.."}', "total": "http_requests_total"}}}}
#: What `kubectl get slo -A -o yaml` prints: a List of live objects with the server's fields.
LIVE_LIST = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
    {**SLO, "metadata": {**SLO["metadata"], "uid": "0b6c", "resourceVersion": "812", "generation": 3,
                         "creationTimestamp": "2026-10-01T00:00:00Z",
                         "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
     "status": {"state": "healthy", "conditions": [{"type": "Ready", "status": "True"}]}}]}
BROKEN_SLO = {**SLO, "spec": {**SLO["spec"], "window": "30x"}}


def sloguard(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
             exe: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SLOGUARD_PROMETHEUS_URL", None)
    return subprocess.run([*(exe or [sys.executable, "-m", "sloguard.cli"]), *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=full_env)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_line(proc: subprocess.CompletedProcess[str], code: int, *wanted: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    for w in wanted:
        assert w in proc.stderr, proc.stderr
    return proc.stderr


@pytest.fixture
def unreachable_kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "nowhere",
        "clusters": [{"name": "nowhere", "cluster": {"server": f"https://127.0.0.1:{closed_port()}",
                                                      "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "u"}},
                     {"name": "also-nowhere", "context": {"cluster": "nowhere", "user": "u"}}]}))
    return path


# --- 0: done; -o is a format, --out-dir a place --------------------------------------------------------

@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_generate_reads_stdin_and_prints_the_format_asked_for(fmt: str) -> None:
    proc = sloguard("generate", "-o", fmt, "-", stdin=yaml.safe_dump(SLO))
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout) if fmt == "json" else list(yaml.safe_load_all(proc.stdout))
    assert [d["kind"] for d in docs] == ["PrometheusRule"]
    assert docs[0]["metadata"]["namespace"] == "shop"


def test_out_dir_writes_files_and_nothing_on_stdout(tmp_path: Path) -> None:
    proc = sloguard("generate", "--out-dir", str(tmp_path / "rules"), str(SLO_FILE))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    written = sorted(p.name for p in (tmp_path / "rules").iterdir())
    assert written and all(n.endswith(".yaml") for n in written)
    proc = sloguard("import", "--out-dir", str(tmp_path / "slos"), "-o", "json", "-", stdin=yaml.safe_dump(
        {"version": "prometheus/v1", "service": "api", "slos": [{"name": "ok", "objective": 99.5, "sli": {
            "events": {"error_query": "sum(rate(e[{{.window}}]))", "total_query": "sum(rate(t[{{.window}}]))"}},
            "alerting": {"name": "A"}}]}))
    assert proc.returncode == 0, proc.stderr
    (written_slo,) = (tmp_path / "slos").iterdir()
    assert written_slo.suffix == ".json" and json.loads(written_slo.read_text())["kind"] == "ServiceLevelObjective"


@pytest.mark.parametrize("where", ["stdout", "out-dir"])
@pytest.mark.parametrize("fmt", ["prometheusrule", "rules"])
def test_generate_writes_nothing_when_promtool_refuses_a_rule(tmp_path: Path, where: str, fmt: str) -> None:
    # The output is prepared while promtool checks the rules: none of it may leave the command.
    bad = {**SLO, "metadata": {"name": "bad", "namespace": "shop"},
           "spec": {**SLO["spec"], "alerting": {"annotations": {"summary": "{{ range .x }}"}}}}
    out = tmp_path / "rules"
    args = ["--out-dir", str(out)] if where == "out-dir" else []
    proc = sloguard("generate", "--format", fmt, "--promtool", "/usr/bin/promtool", *args, "-",
                    stdin=yaml.safe_dump_all([SLO, bad]))
    one_line(proc, 1, "shop/bad", "spec.alerting.annotations.summary", "Prometheus would refuse")
    assert proc.stdout == ""
    assert not out.exists()


def test_o_given_a_directory_is_a_usage_error_naming_the_formats(tmp_path: Path) -> None:
    for command in (["generate"], ["dashboards"], ["import"], ["export", "--to", "openslo"]):
        proc = sloguard(*command, "-o", str(tmp_path), str(SLO_FILE))
        one_line(proc, 2, "invalid choice", "yaml")


def test_export_and_dashboards_read_stdin_and_write_yaml() -> None:
    proc = sloguard("export", "--to", "openslo", "-o", "yaml", "-", stdin=yaml.safe_dump(SLO))
    assert proc.returncode == 0, proc.stderr
    assert [d["kind"] for d in yaml.safe_load_all(proc.stdout)] == ["SLO"]
    proc = sloguard("dashboards", "--configmap", "-", stdin=yaml.safe_dump(SLO))
    assert proc.returncode == 0, proc.stderr
    assert {d["kind"] for d in yaml.safe_load_all(proc.stdout)} == {"ConfigMap"}
    proc = sloguard("dashboards", "-o", "yaml", "-", stdin=yaml.safe_dump(SLO))
    assert proc.returncode == 0, proc.stderr
    assert all("panels" in d for d in yaml.safe_load_all(proc.stdout))


def test_validate_reads_what_kubectl_get_prints_from_stdin() -> None:
    proc = sloguard("validate", "--promtool", "/usr/bin/promtool", "-", stdin=yaml.safe_dump(LIVE_LIST))
    assert proc.returncode == 0, proc.stderr
    assert "1 object(s) checked: 0 error(s)" in proc.stderr


def test_version_alone_on_a_line() -> None:
    from sloguard import __version__

    proc = sloguard("version")
    assert (proc.returncode, proc.stdout) == (0, f"sloguard {__version__}\n")


# --- 1: findings ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ["validate", "--promtool", "/usr/bin/promtool"], ["generate"], ["dashboards"], ["export", "--to", "openslo"],
    ["budget", "--prometheus", "http://127.0.0.1:9"],
    ["report", "--prometheus", "http://127.0.0.1:9", "--period", "2026-10"],
    ["impact", "--prometheus", "http://127.0.0.1:9", "--from", "2026-10-01T00:00:00Z", "--to",
     "2026-10-01T01:00:00Z"],
])
def test_an_invalid_slo_on_stdin_is_a_finding_naming_stdin_the_object_and_the_field(command: list[str]) -> None:
    proc = sloguard(*command, "-", stdin=yaml.safe_dump(BROKEN_SLO))
    one_line(proc, 1, "shop/checkout", "window")


def test_nothing_of_the_kind_asked_for_is_a_finding() -> None:
    proc = sloguard("sla", "evaluate", "--prometheus", "http://127.0.0.1:9", "--period", "2026-10", "-",
                    stdin=yaml.safe_dump(SLO))
    one_line(proc, 1, "sloguard sla evaluate: no SLAContract found in -")
    proc = sloguard("budget", "--prometheus", "http://127.0.0.1:9", "-", stdin="")
    one_line(proc, 1, "no ServiceLevelObjective found in -")


# --- 2: usage --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "says"), [
    (["budget", "--prometheus", "http://127.0.0.1:9"], "give FILE|DIR|- or --from-cluster"),
    (["budget", "--prometheus", "http://127.0.0.1:9", "--at", "yesterday", "x"], "RFC 3339"),
    (["budget", "--prometheus", "http://p", "--prometheus-ca-file", "/nonexistent.pem", str(SLO_FILE)],
     "/nonexistent.pem"),
    (["budget", str(SLO_FILE)], "give --prometheus URL"),
    (["sla", "evaluate", "--prometheus", "http://127.0.0.1:9", "--period", "2026-13", str(SLA_FILE)],
     "--period: period '2026-13' is not a month"),
    (["sla", "evaluate", "--prometheus", "http://127.0.0.1:9", "--at", "soon", str(SLA_FILE)], "--at 'soon'"),
    (["impact", "--prometheus", "http://127.0.0.1:9", "--from", "x", "--to", "y", str(SLO_FILE)], "--from and --to"),
    (["report", "--prometheus", "http://127.0.0.1:9", "--period", "2026-13", str(SLO_FILE)], "--period"),
    (["report", "--prometheus", "http://127.0.0.1:9", "--timezone", "Mars/Base", str(SLO_FILE)], "--timezone"),
    (["generate", "--rule-label", "novalue", str(SLO_FILE)], "--rule-label expects KEY=VALUE"),
    (["gate", "nosuchkind/checkout"], "expected NAME or KIND/NAME"),
    (["completion", "fish"], "invalid choice"),
    (["nosuchcommand"], "invalid choice"),
    (["budget", "--prometheus", "http://127.0.0.1:9", "--from-cluster", "--kubeconfig", "/nonexistent/kubeconfig"],
     "/nonexistent/kubeconfig"),
])
def test_usage_errors_exit_2_with_one_line(argv: list[str], says: str) -> None:
    one_line(sloguard(*argv), 2, says)


def test_a_context_the_kubeconfig_lacks_is_a_usage_error(unreachable_kubeconfig: Path) -> None:
    proc = sloguard("budget", "--prometheus", "http://127.0.0.1:9", "--from-cluster",
                    "--kubeconfig", str(unreachable_kubeconfig), "--context", "no-such-context")
    one_line(proc, 2, "no-such-context")


# --- 3: could not reach the API server or Prometheus ----------------------------------------------------

def test_budget_from_stdin_with_prometheus_unreachable_exits_3() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    # what `kubectl get slo -A -o yaml | sloguard budget -` sends: loaded, then Prometheus is asked
    proc = sloguard("budget", "--prometheus", url, "-o", "yaml", "-", stdin=yaml.safe_dump(LIVE_LIST))
    one_line(proc, 3, f"sloguard budget: cannot reach Prometheus at {url}")
    assert proc.stdout == ""


def test_sla_and_impact_with_prometheus_unreachable_exit_3() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    proc = sloguard("sla", "evaluate", "--prometheus", url, "--period", "2026-10", "-",
                    stdin=SLA_FILE.read_text())
    one_line(proc, 3, "sloguard sla evaluate: ", "cannot reach Prometheus")
    proc = sloguard("impact", "--prometheus", url, "--from", "2026-10-01T00:00:00Z", "--to", "2026-10-01T01:00:00Z",
                    "--now", "2026-10-01T02:00:00Z", "-", stdin=yaml.safe_dump(SLO))
    one_line(proc, 3, "sloguard impact: ", "cannot reach Prometheus")
    proc = sloguard("report", "--prometheus", url, "--period", "2026-10", "--at", "2026-11-02T00:00:00Z", "-",
                    stdin=yaml.safe_dump(SLO))
    one_line(proc, 3, "sloguard report: ", "cannot reach Prometheus")


@pytest.mark.parametrize("command", [
    ["budget", "--prometheus", "http://127.0.0.1:9"],
    ["sla", "evaluate", "--prometheus", "http://127.0.0.1:9", "--period", "2026-10"],
    ["report", "--prometheus", "http://127.0.0.1:9", "--period", "2026-10", "--at", "2026-11-02T00:00:00Z"],
    ["impact", "--prometheus", "http://127.0.0.1:9", "--from", "2026-10-01T00:00:00Z",
     "--to", "2026-10-01T01:00:00Z"],
])
def test_from_cluster_with_the_api_server_unreachable_exits_3(command: list[str], unreachable_kubeconfig: Path,
                                                               ) -> None:
    proc = sloguard(*command, "--from-cluster", "--kubeconfig", str(unreachable_kubeconfig),
                    "--context", "also-nowhere")
    one_line(proc, 3, "cannot reach the API server at https://127.0.0.1:")


def test_from_cluster_uses_kubeconfig_from_the_environment(unreachable_kubeconfig: Path) -> None:
    proc = sloguard("budget", "--prometheus", "http://127.0.0.1:9", "--from-cluster", "-n", "shop",
                    env={"KUBECONFIG": str(unreachable_kubeconfig)})
    one_line(proc, 3, "cannot reach the API server at https://127.0.0.1:")


def test_gate_with_the_api_server_unreachable_exits_3(unreachable_kubeconfig: Path) -> None:
    proc = sloguard("gate", "checkout", "-n", "shop", "--kubeconfig", str(unreachable_kubeconfig))
    one_line(proc, 3, "sloguard gate: ")


# --- completion -------------------------------------------------------------------------------------------

def _complete(script: str, words: list[str]) -> list[str]:
    """What bash offers for ``words`` (the last one being typed), through the generated script."""
    line = " ".join(words)
    program = (f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'; "
               f"COMP_POINT={len(line)}; _shtab_sloguard sloguard '{words[-1]}' '{words[-2]}'; "
               'printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is part of every supported machine")
def test_bash_completion_offers_commands_flags_and_formats() -> None:
    proc = sloguard("completion", "bash")
    assert proc.returncode == 0, proc.stderr
    script = proc.stdout
    assert "complete " in script and "sloguard" in script
    assert {"budget", "bundle"} & set(_complete(script, ["sloguard", "bu"])) == {"budget"}
    assert "--out-dir" in _complete(script, ["sloguard", "generate", "--ou"])
    assert set(_complete(script, ["sloguard", "budget", "-o", ""])) == {"table", "json", "yaml"}
    assert set(_complete(script, ["sloguard", "sla", ""])) == {"evaluate"}


def test_zsh_completion_is_a_compdef_for_sloguard() -> None:
    proc = sloguard("completion", "zsh")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#compdef sloguard")
    assert "--from-cluster" in proc.stdout and "--out-dir" in proc.stdout
    if shutil.which("zsh"):
        check = subprocess.run(["zsh", "-n"], input=proc.stdout, capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr


# --- the kubectl plugin -----------------------------------------------------------------------------------

@pytest.fixture
def plugin_path(tmp_path: Path) -> str:
    """A directory holding ``kubectl-sloguard`` as pip installs it: a script calling the entry point
    that pyproject.toml names for it; PATH with that directory first."""
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["kubectl-sloguard"].split(":")
    assert scripts["kubectl-sloguard"] == scripts["sloguard"]  # the same command under kubectl's name
    plugin = tmp_path / "bin" / "kubectl-sloguard"
    plugin.parent.mkdir()
    plugin.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    module, func = scripts["kubectl_complete-sloguard"].split(":")
    completer = plugin.parent / "kubectl_complete-sloguard"
    completer.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
    completer.chmod(completer.stat().st_mode | stat.S_IXUSR)
    return f"{plugin.parent}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is installed on every dev machine and CI")
def test_kubectl_runs_sloguard_as_its_plugin(plugin_path: str) -> None:
    from sloguard import __version__

    env = {"PATH": plugin_path}
    listed = subprocess.run(["kubectl", "plugin", "list"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, **env})
    assert "kubectl-sloguard" in listed.stdout, listed.stdout + listed.stderr
    proc = sloguard("sloguard", "version", env=env, exe=["kubectl"])
    assert (proc.returncode, proc.stdout) == (0, f"sloguard {__version__}\n"), proc.stderr
    proc = sloguard("sloguard", "--help", env=env, exe=["kubectl"])
    assert proc.returncode == 0 and proc.stdout.startswith("usage: kubectl sloguard"), proc.stdout
    # exit codes pass through kubectl unchanged
    proc = sloguard("sloguard", "generate", "-", stdin=yaml.safe_dump(BROKEN_SLO), env=env, exe=["kubectl"])
    one_line(proc, 1, "window")
    proc = sloguard("sloguard", "generate", "-o", "/tmp", "-", env=env, exe=["kubectl"])
    one_line(proc, 2, "invalid choice")


def _kubectl_complete(path: str, *words: str) -> tuple[list[str], str]:
    """What ``kubectl sloguard WORDS<TAB>`` offers: kubectl's own completion entry point, which runs
    our ``kubectl_complete-sloguard`` from PATH; candidates (descriptions dropped) and directive."""
    proc = subprocess.run(["kubectl", "__complete", "sloguard", *words], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PATH": path})
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line]
    return [line.split("\t")[0] for line in lines[:-1]], lines[-1]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is installed on every dev machine and CI")
def test_kubectl_sloguard_tab_completes_commands_flags_choices_and_files(plugin_path: str) -> None:
    names, directive = _kubectl_complete(plugin_path, "")
    assert {"generate", "validate", "budget", "sla", "report", "gate", "completion"} <= set(names)
    assert directive == ":4"  # commands: no file names
    assert _kubectl_complete(plugin_path, "bu") == (["budget"], ":4")
    assert _kubectl_complete(plugin_path, "budget", "-o", "") == (["table", "json", "yaml"], ":4")
    assert _kubectl_complete(plugin_path, "sla", "") == (["evaluate"], ":4")
    flags, directive = _kubectl_complete(plugin_path, "generate", "--ou")
    assert (flags, directive) == (["--out-dir", "--output"], ":4")
    # where a FILE|DIR goes, the shell completes file names (Cobra's default directive)
    assert _kubectl_complete(plugin_path, "validate", "")[1] == ":0"
    assert _kubectl_complete(plugin_path, "budget", "--prometheus", "http://x", "")[1] == ":0"
    # a flag's free-form value is not a file name
    assert _kubectl_complete(plugin_path, "budget", "--prometheus", "")[1] == ":4"


# --- one shape for every command ------------------------------------------------------------------------

def _subparsers(parser: object, prefix: str = "") -> dict[str, object]:
    import argparse

    out: dict[str, object] = {}
    for action in parser._actions:  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out[f"{prefix}{name}"] = child
                out.update(_subparsers(child, f"{prefix}{name} "))
    return out


def test_every_o_is_a_format_and_every_input_accepts_stdin() -> None:
    from sloguard.cli import build_parser

    commands = _subparsers(build_parser())
    with_o, with_paths = set(), set()
    for name, parser in commands.items():
        for action in parser._actions:  # type: ignore[attr-defined]
            if "-o" in action.option_strings:
                assert action.option_strings == ["-o", "--output"] and action.choices, name
                with_o.add(name)
            if action.dest == "paths":
                assert action.metavar == "FILE|DIR|-", name
                with_paths.add(name)
            assert "--output-dir" not in action.option_strings, name
    assert {"generate", "dashboards", "import", "export", "budget", "sla evaluate", "report", "impact",
            "gate"} <= with_o
    assert {"generate", "validate", "dashboards", "import", "export", "budget", "sla evaluate", "report",
            "impact"} == with_paths


def test_the_commands_that_read_the_cluster_take_the_kube_flags() -> None:
    from sloguard.cli import build_parser

    commands = _subparsers(build_parser())
    for name in ("budget", "sla evaluate", "report", "impact", "gate"):
        flags = {f for a in commands[name]._actions for f in a.option_strings}  # type: ignore[attr-defined]
        assert {"--kubeconfig", "--context"} <= flags, name
        assert name == "gate" or "--from-cluster" in flags, name


def test_docs_cli_md_states_the_exit_codes_the_code_uses() -> None:
    import re

    from sloguard.cli import common

    text = (REPO_ROOT / "docs" / "cli.md").read_text()
    table = dict(re.findall(r"^\| (\d) \| (\w[\w ]*?) \|", text, flags=re.M))
    assert table == {str(common.EXIT_OK): "done", str(common.EXIT_FINDINGS): "findings",
                     str(common.EXIT_USAGE): "usage", str(common.EXIT_UNREACHABLE): "could not reach a server"}
    assert "docs/cli.md" in (REPO_ROOT / "README.md").read_text()
