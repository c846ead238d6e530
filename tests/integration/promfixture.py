"""A real Prometheus loaded with synthetic history, for integration tests and benchmarks.

Usage::

    from tests.integration.promfixture import OpenMetricsWriter, PrometheusServer

    w = OpenMetricsWriter()
    w.counter("http_requests", ["code"]).add(("200",), ts, value)  # or w.family(...)
    server = PrometheusServer.from_openmetrics(w.text(), tmp_path)
    server.start()            # waits for /-/ready
    ... server.url ...
    server.stop(); server.start()   # same data, same port: "down then back"
    server.stop()

or, from a generator of lines: ``PrometheusServer.from_lines(lines, tmp_path)``.

History is turned into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics`` and
served by ``prometheus`` with a long retention; nothing is scraped. Which Prometheus (3, the
default, or Debian's 2.42) follows ``SLOGUARD_PROMETHEUS`` (see ``tests/metricservers.py``);
:class:`VictoriaMetricsServer` serves the same samples from VictoriaMetrics, and
:func:`server_from_lines` picks the server the suite runs on. Blocks must lie in the past
(before the head), so generate history that ends before "now" and query it with the API's
``time`` parameter (``sloguard budget --at``). Block compaction is switched off (2h blocks stay
2h blocks) so the server does no background work while tests query it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self, TextIO

from tests import metricservers
from tests.support.cluster import free_port


def __getattr__(name: str) -> str:
    """``PROMETHEUS`` / ``PROMTOOL``: the binaries of the selected Prometheus, located on first use."""
    if name == "PROMETHEUS":
        return metricservers.prometheus_bin()
    if name == "PROMTOOL":
        return metricservers.promtool_bin()
    raise AttributeError(name)


_MINIMAL_CONFIG = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n"


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{v}"' for n, v in zip(names, values, strict=True))
    return "{" + inner + "}"


def _fmt(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


@dataclass
class Family:
    """One metric family; samples are kept per series and written in time order."""

    name: str
    kind: str  # counter | gauge | histogram
    label_names: tuple[str, ...]
    # (sample name suffix, label values) -> list of (ts seconds, value)
    series: dict[tuple[str, tuple[str, ...]], list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, values: tuple[str, ...], ts: int, value: float, suffix: str = "") -> None:
        """A sample; ``suffix`` is ``_bucket`` / ``_count`` / ``_sum`` for histograms."""
        if not suffix and self.kind == "counter":
            suffix = "_total"
        self.series.setdefault((suffix, values), []).append((ts, value))

    def lines(self) -> Iterator[str]:
        yield f"# TYPE {self.name} {self.kind}\n"
        for (suffix, values), samples in self.series.items():
            names = self.label_names
            if suffix == "_bucket":
                names = (*names, "le")
            labels = _labels(names, values)
            for ts, value in samples:
                yield f"{self.name}{suffix}{labels} {_fmt(value)} {ts}\n"


class OpenMetricsWriter:
    """Collects families and writes OpenMetrics text that promtool accepts."""

    def __init__(self) -> None:
        self.families: dict[str, Family] = {}

    def family(self, name: str, kind: str, label_names: Iterable[str] = ()) -> Family:
        if name not in self.families:
            self.families[name] = Family(name, kind, tuple(label_names))
        return self.families[name]

    def lines(self) -> Iterator[str]:
        for fam in self.families.values():
            yield from fam.lines()
        yield "# EOF\n"

    def write(self, path: Path) -> Path:
        with path.open("w") as f:
            f.writelines(self.lines())
        return path


def split_by_time(lines: Iterable[str], workdir: Path, chunk_seconds: int = 86400) -> list[Path]:
    """OpenMetrics lines -> one file per ``chunk_seconds`` of sample time, each valid on its own.

    ``promtool`` re-reads its whole input for every 2-hour block it writes, so a month in one
    file costs minutes; a day per file makes it linear. Chunks are aligned to multiples of
    ``chunk_seconds`` (whole days by default), hence to the 2-hour block boundaries: no block
    overlaps another.
    """
    handles: dict[int, tuple[Path, TextIO]] = {}
    last_header: dict[int, str] = {}
    header = ""
    try:
        for line in lines:
            for one in line.splitlines(keepends=True):
                if one.startswith("# TYPE") or one.startswith("# HELP") or one.startswith("# UNIT"):
                    header = one if one.startswith("# TYPE") else header
                    continue
                if one.startswith("#") or not one.strip():
                    continue
                ts = float(one.rsplit(" ", 1)[1])
                chunk = int(ts // chunk_seconds)
                if chunk not in handles:
                    path = workdir / f"chunk-{chunk}.om"
                    handles[chunk] = (path, path.open("w"))
                _, f = handles[chunk]
                if last_header.get(chunk) != header:
                    f.write(header)
                    last_header[chunk] = header
                f.write(one if one.endswith("\n") else one + "\n")
    finally:
        for _, f in handles.values():
            f.write("# EOF\n")
            f.close()
    return [path for _, (path, _) in sorted(handles.items())]


def create_blocks(
    lines: Iterable[str], data_dir: Path, chunk_seconds: int = 86400, version: int | None = None
) -> None:
    """``promtool tsdb create-blocks-from openmetrics`` into ``data_dir``, a day at a time in parallel.

    Samples of one series must come in time order; families must be contiguous (``# TYPE`` once).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    promtool = metricservers.promtool_bin(version)
    with tempfile.TemporaryDirectory(prefix="sloguard-om-") as tmp:
        files = split_by_time(lines, Path(tmp), chunk_seconds)

        def run(path: Path) -> None:
            proc = subprocess.run(
                [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(path), str(data_dir)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"promtool could not create blocks from {path.name}:\n{proc.stderr[-4000:]}")

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(run, files))


@dataclass
class _ServerProcess:
    """A metric server process on 127.0.0.1 serving ``data_dir``: :meth:`start` launches it and
    waits until ``ready_path`` answers 200; :meth:`stop` ends it (by its own pid) and keeps the
    data, so ``stop(); start()`` is "down then back" on the same port. Subclasses give the
    command line and the ready URL; :meth:`_ready` is what they do once it answers."""

    #: The server's name in file names and messages.
    name: ClassVar[str]
    #: The path that answers 200 once the server serves queries.
    ready_path: ClassVar[str]

    data_dir: Path
    port: int = field(default_factory=free_port)
    workdir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, workdir: Path) -> list[str]:
        """The server's command line (writing whatever config file it reads into ``workdir``)."""
        raise NotImplementedError

    def _ready(self) -> None:
        """Called once the server answers, before :meth:`start` returns."""

    def start(self, timeout: float = 60.0) -> Self:
        if self.process is not None:
            return self
        workdir = self.workdir or Path(tempfile.mkdtemp(prefix=f"sloguard-{self.name}-"))
        self.workdir = workdir
        self.log_path = workdir / f"{self.name}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command(workdir), stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            if self._answers():
                self._ready()
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f}s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class PrometheusServer(_ServerProcess):
    """A ``prometheus`` process serving ``data_dir`` on 127.0.0.1 (no scraping)."""

    name: ClassVar[str] = "prometheus"
    ready_path: ClassVar[str] = "/-/ready"

    extra_args: tuple[str, ...] = ()
    #: Let Prometheus compact the imported 2h blocks into long ones, as a long-running server
    #: would have (benchmarks); tests keep them as they are so the server stays idle.
    compact: bool = False
    #: Prometheus major version, 2 or 3 (default: ``SLOGUARD_PROMETHEUS``, else 3).
    version: int = field(default_factory=metricservers.prometheus_version)

    @classmethod
    def from_lines(cls, lines: Iterable[str], workdir: Path, **kw: object) -> PrometheusServer:
        workdir.mkdir(parents=True, exist_ok=True)
        create_blocks(lines, workdir / "data", version=kw.get("version"))  # type: ignore[arg-type]
        return cls(data_dir=workdir / "data", workdir=workdir, **kw)  # type: ignore[arg-type]

    @classmethod
    def from_openmetrics(cls, text: str, workdir: Path, **kw: object) -> PrometheusServer:
        return cls.from_lines([text], workdir, **kw)

    def command(self, workdir: Path) -> list[str]:
        config = workdir / "prometheus.yml"
        config.write_text(_MINIMAL_CONFIG)
        return [
            metricservers.prometheus_bin(self.version),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=400d",
            # Keep the imported 2h blocks as they are: no compaction while tests query.
            *(() if self.compact else ("--storage.tsdb.max-block-duration=2h",)),
            "--storage.tsdb.min-block-duration=2h",
            "--log.level=warn",
            *self.extra_args,
        ]

    def blocks_loaded(self) -> int:
        """How many TSDB blocks the server has loaded (falls as compaction merges them)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("prometheus_tsdb_blocks_loaded "):
                    return int(float(line.split()[1]))
        return -1

    def wait_compacted(self, timeout: float = 900.0, settle: float = 20.0) -> int:
        """Wait for compaction (Prometheus starts it a minute after start-up) to merge the
        imported blocks, then for the block count to hold still for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        first = last = self.blocks_loaded()
        since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(1.0)
            now = self.blocks_loaded()
            if now != last:
                last, since = now, time.monotonic()
            elif last < first and time.monotonic() - since >= settle:
                return now
        return last



def _prometheus_text(lines: Iterable[str]) -> Iterator[str]:
    """OpenMetrics lines (timestamps in seconds) as Prometheus text (milliseconds), no comments."""
    for line in lines:
        for one in line.splitlines():
            if not one.strip() or one.startswith("#"):
                continue
            head, ts = one.rsplit(" ", 1)
            yield f"{head} {round(float(ts) * 1000)}\n"


@dataclass
class VictoriaMetricsServer(_ServerProcess):
    """A ``victoria-metrics`` single node on 127.0.0.1 holding the same samples as
    :class:`PrometheusServer` would: imported with ``/api/v1/import/prometheus`` (explicit
    millisecond timestamps, so every sample lands exactly where promtool puts it), then flushed
    so queries see all of it. Same interface: ``start``, ``stop`` (data kept), ``url``."""

    name: ClassVar[str] = "victoria-metrics"
    ready_path: ClassVar[str] = "/health"

    pending: list[str] = field(default_factory=list)

    @classmethod
    def from_lines(cls, lines: Iterable[str], workdir: Path, **kw: object) -> VictoriaMetricsServer:
        workdir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir=workdir / "vmdata", workdir=workdir, pending=list(_prometheus_text(lines)), **kw)  # type: ignore[arg-type]

    @classmethod
    def from_openmetrics(cls, text: str, workdir: Path, **kw: object) -> VictoriaMetricsServer:
        return cls.from_lines([text], workdir, **kw)

    def command(self, workdir: Path) -> list[str]:
        return [
            metricservers.victoriametrics_bin(),
            f"-storageDataPath={self.data_dir}",
            f"-httpListenAddr=127.0.0.1:{self.port}",
            "-retentionPeriod=100y",  # the history lies in the past, whatever today is
            "-search.disableCache",  # answers straight from the imported samples
            "-loggerLevel=WARN",
        ]

    def _ready(self) -> None:
        """The samples given at construction are imported on the first start."""
        if self.pending:
            self._import(self.pending)
            self.pending = []

    def _import(self, lines: list[str], batch: int = 200_000) -> None:
        for i in range(0, len(lines), batch):
            body = "".join(lines[i : i + batch]).encode()
            req = urllib.request.Request(f"{self.url}/api/v1/import/prometheus", data=body, method="POST")
            with urllib.request.urlopen(req, timeout=300) as r:
                if r.status // 100 != 2:
                    raise RuntimeError(f"victoria-metrics refused the import: HTTP {r.status}")
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=60) as r:
            r.read()


#: Either server: what the integration tests need of one.
MetricServer = PrometheusServer | VictoriaMetricsServer


def server_from_lines(lines: Iterable[str], workdir: Path, kind: str | None = None) -> MetricServer:
    """The server ``SLOGUARD_PROMETHEUS`` selects (or ``kind``: 2, 3, vm), loaded with ``lines``."""
    kind = kind or metricservers.kind()
    if kind == "vm":
        return VictoriaMetricsServer.from_lines(lines, workdir)
    return PrometheusServer.from_lines(lines, workdir, version=int(kind))
