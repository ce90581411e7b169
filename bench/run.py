#!/usr/bin/env python3
"""fraclab's macro benchmarks, side by side in one run (issue 14).

Builds fraclab and the bare event-loop baseline from this tree, runs each
workload (median of --runs runs, each a child process whose wall time and
peak RSS are measured), and prints one table: workload, measured, target,
met. See bench/README.md for the workloads and targets.

    python3 bench/run.py                      # everything but --analysis-1024
    python3 bench/run.py --quick --skip-slow  # a smoke test, about a minute
    python3 bench/run.py --only events,bare --json bench/out/today.json
    python3 bench/run.py --skip-slow --readme # refresh README.md's figures

Python 3.11 standard library only; the SimPy workload creates its own
virtualenv in bench/.venv on first use (`pip install simpy`). Everything a
run writes goes to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
SIMPY_REQUIREMENT = "simpy>=4.1,<5"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# Workload names for --only (letters as in issue 14 work too).
WORKLOADS = {
    "a": "events",
    "b": "bare",
    "c": "simpy",
    "d": "modp1024",
    "e": "n4096",
    "f": "analysis",
    "g": "sweep",
    "h": "trace",
    "i": "xor",
}
SLOW = {"modp1024", "n4096"}  # skipped by --skip-slow (and analysis at n = 256)

MIB = 1024 * 1024


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A setup failure that stops the whole benchmark (no cargo, no build)."""


# --------------------------------------------------------------------------
# Child processes: wall time, peak RSS, timeout, memory cap.


@dataclass
class Child:
    """One finished child process."""

    wall: float
    rss_kib: int
    cpu: float  # user + system seconds, the command's and its children's
    rc: int | None  # exit code; None when killed by a signal
    signal: int | None
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def failure(self, timeout: float, mem_limit: int) -> str:
        if self.timed_out:
            return f"timeout (> {timeout:g} s)"
        if "memory allocation" in self.stderr or "MemoryError" in self.stderr:
            return f"out of memory (address-space cap {mem_limit / 1024**3:g} GiB)" if mem_limit else "out of memory"
        if self.signal:
            return f"killed by signal {self.signal}"
        last = self.stderr.strip().splitlines()[-1:] or [""]
        return f"exit {self.rc}: {last[0][:120]}"


def gnu_time() -> str | None:
    """GNU time, if installed: it forks the measured command from a small
    process, so `%M` is the command's own peak RSS."""
    for path in ("/usr/bin/time", shutil.which("gtime")):
        if path and os.path.exists(path):
            try:
                r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if "GNU" in r.stdout + r.stderr:
                return path
    return None


GNU_TIME = gnu_time()
RSS_METHOD = "GNU time %M" if GNU_TIME else "/proc/PID/status VmHWM, polled every 20 ms"


def poll_hwm(pid: int, argv0: str, done: threading.Event, peak: list[int]) -> None:
    """Keeps the largest VmHWM of `pid` once it runs `argv0`. Without GNU
    time this is the peak RSS: wait4's ru_maxrss would count the Python
    parent this child was forked from."""
    status, cmdline = f"/proc/{pid}/status", f"/proc/{pid}/cmdline"
    while not done.is_set():
        try:
            with open(cmdline, "rb") as f:
                if f.read().split(b"\0", 1)[0].decode(errors="replace") == argv0:
                    with open(status) as g:
                        for line in g:
                            if line.startswith("VmHWM:"):
                                peak[0] = max(peak[0], int(line.split()[1]))
                                break
        except (OSError, ValueError):
            pass
        done.wait(0.02)


def run_child(cmd: list[str], timeout: float, mem_limit: int, cwd: Path | None = None) -> Child:
    """Runs `cmd` in its own process group: wall time from start to exit,
    peak RSS of the command alone (see RSS_METHOD). Kills the group after
    `timeout` seconds; caps the command's address space at `mem_limit`
    bytes (0: no cap)."""

    def limit() -> None:
        if mem_limit:
            resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, "--", *cmd] if GNU_TIME else cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True, preexec_fn=limit)
        timed_out, done, peak = threading.Event(), threading.Event(), [0]

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        poller = None
        if not GNU_TIME:
            poller = threading.Thread(target=poll_hwm, args=(p.pid, cmd[0], done, peak), daemon=True)
            poller.start()
        try:
            while True:
                try:
                    _, status, ru = os.wait4(p.pid, 0)
                    break
                except InterruptedError:
                    continue
        except BaseException:
            # Ctrl-C and the like: the child goes with us.
            kill()
            os.wait4(p.pid, 0)
            p.returncode = -9
            raise
        finally:
            timer.cancel()
            done.set()
        wall = time.perf_counter() - t0
        if poller:
            poller.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        try:  # anything left in the group (there should be nothing) goes too
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc, sig = (p.returncode, None) if p.returncode >= 0 else (None, -p.returncode)
        rss_kib = peak[0]
        if GNU_TIME:
            lines = rss.read().strip().splitlines()
            for line in lines:
                m = re.match(r"Command terminated by signal (\d+)", line)
                if m:
                    rc, sig = None, int(m.group(1))
            if lines and lines[-1].isdigit():
                rss_kib = int(lines[-1])
        out.seek(0)
        err.seek(0)
        return Child(wall, rss_kib, ru.ru_utime + ru.ru_stime, rc, sig, timed_out.is_set(), out.read().decode(errors="replace"), err.read().decode(errors="replace"))


@dataclass
class Measure:
    """A workload's repeated runs: the median wall, the peak RSS, and
    whatever the runs reported (events, messages, bytes)."""

    label: str
    walls: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.walls)

    @property
    def wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    @property
    def cpu_share(self) -> float | None:
        """CPU seconds per wall second, median over the runs: 1.0 is one
        core busy the whole time, 2.0 two."""
        return statistics.median(c / w for c, w in zip(self.cpus, self.walls)) if self.walls else None

    @property
    def rss_mib(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None

    def rate(self, key: str = "events") -> float | None:
        if not self.ok or key not in self.info:
            return None
        return self.info[key] / self.wall

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "runs": len(self.walls),
            "walls_s": [round(w, 4) for w in self.walls],
            "wall_s": None if self.wall is None else round(self.wall, 4),
            "cpu_s": [round(c, 3) for c in self.cpus],
            "cores_busy": None if self.cpu_share is None else round(self.cpu_share, 2),
            "peak_rss_mib": None if self.rss_mib is None else round(self.rss_mib, 1),
            "events_per_s": None if self.rate() is None else round(self.rate(), 1),
            **self.info,
            "error": self.error,
        }


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.a = args
        self.work = work
        self.results: dict[str, dict[str, Measure]] = {}
        self.rows: list[dict] = []
        self.fraclab: Path | None = None
        self.bare: Path | None = None
        self._seq = 0

    # ---- repeated measurement ----------------------------------------

    def measure(self, label: str, make_cmd, after=None, timeout: float | None = None, runs: int | None = None) -> Measure:
        """Runs `make_cmd(k)` up to --runs times (fewer when another run
        would take the workload past --budget seconds) and keeps the median.
        `after(child, k)` reads a run's outputs into a dict of numbers, or
        raises to mark the run failed."""
        timeout = timeout or self.a.timeout
        runs = runs or self.a.runs
        m = Measure(label)
        spent = 0.0
        for k in range(1, runs + 1):
            log(f"{label}: run {k}/{runs} …")
            child = run_child(make_cmd(k), timeout, self.a.mem_limit, cwd=ROOT)
            if not child.ok:
                m.error = child.failure(timeout, self.a.mem_limit)
                if child.timed_out:
                    m.info["timeout_s"] = timeout
                m.info["failed_after_s"] = round(child.wall, 2)
                if child.rss_kib:
                    m.info["failed_peak_rss_mib"] = round(child.rss_kib / 1024, 1)
                log(f"{label}: run {k}: {m.error}")
                break
            try:
                info = after(child, k) if after else {}
            except Exception as e:  # noqa: BLE001 - reported as the run's failure
                m.error = f"bad output: {e}"
                log(f"{label}: run {k}: {m.error}")
                break
            m.walls.append(child.wall)
            m.rss_kib.append(child.rss_kib)
            m.cpus.append(child.cpu)
            m.info.update(info)
            spent += child.wall
            extra = info_line(info)
            log(f"{label}: run {k}: {child.wall:.2f} s, {child.rss_kib / 1024:.0f} MiB" + (f", {extra}" if extra else ""))
            if k < runs and spent + child.wall > self.a.budget:
                log(f"{label}: another run would pass the {self.a.budget:g} s budget; keeping {k}")
                break
        return m

    # ---- fraclab runs ---------------------------------------------------

    def scenario(self, name: str, **kw) -> Path:
        """Writes a scenario TOML into the work folder."""
        params = kw.get("params", "toy-64")
        group = [f'params = "{params}"']
        if params.startswith("xor-"):
            group = ['operator = "xor"', f"bits = {params[4:]}"]
        lines = [
            f'name = "{name}"',
            "seed = 1",
            "[group]",
            *group,
            "[protocol]",
            f"members = {kw['n']}",
            f'init = "{kw.get("init", "sm")}"',
            'keygen = "additive"',
            f"epochs = {kw['epochs']}",
            'channel = "ideal"',
        ]
        if kw.get("leak"):
            lines += ["[[adversary]]", 'kind = "leak"', "member = 1", 'secret = "alpha"', "epoch = 2", 'to = "group"']
        lines += ["[output]", f'trace = "{kw.get("trace", "none")}"', f"analysis = {'true' if kw.get('analysis') else 'false'}"]
        path = self.work / f"{name}.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def run_fraclab(self, label: str, name: str, timeout: float | None = None, runs: int | None = None, keep=None, **kw) -> Measure:
        sc = self.scenario(name, **kw)

        def cmd(k: int) -> list[str]:
            out = self.work / f"{name}-out{k}"
            shutil.rmtree(out, ignore_errors=True)
            return [str(self.fraclab), "run", str(sc), "--out", str(out), "--quiet"]

        def after(child: Child, k: int) -> dict:
            out = self.work / f"{name}-out{k}"
            try:
                s = json.loads((out / "summary.json").read_text())
                info = {"events": s["events"], "messages_sent": s["messages_sent"], "epochs_completed": s["epochs_completed"], "keys_agreed": s["keys_agreed"]}
                if not s["keys_agreed"]:
                    raise ValueError("the keys did not agree")
                if keep:
                    info.update(keep(out, s))
                return info
            finally:
                shutil.rmtree(out, ignore_errors=True)

        m = self.measure(label, cmd, after, timeout=timeout, runs=runs)
        m.info.update({"members": kw["n"], "epochs": kw["epochs"], "params": kw.get("params", "toy-64")})
        return m

    # ---- rows of the table ------------------------------------------------

    def row(self, workload: str, measured: str, target: str = "—", met: bool | None = None, key: str = "") -> None:
        self.rows.append({"key": key, "workload": workload, "measured": measured, "target": target, "met": met})

    def record(self, name: str, key: str, m: Measure) -> Measure:
        self.results.setdefault(name, {})[key] = m
        return m


def info_line(info: dict) -> str:
    parts = []
    for k in ("events", "messages_sent", "messages", "trace_bytes"):
        if k in info:
            parts.append(f"{k} {num(info[k])}")
    return ", ".join(parts)


# ---- formatting --------------------------------------------------------------


def num(x: int) -> str:
    """2744832 → "2 744 832"."""
    return f"{x:,}".replace(",", " ")


def rate(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M/s"
    return f"{x / 1e3:.0f} k/s"


def secs(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def mib(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.0f} MiB" if x < 1024 else f"{x / 1024:.2f} GiB"


def runs_note(m: Measure) -> str:
    n = len(m.walls)
    return "1 run" if n == 1 else f"median of {n}"


def measured_or_error(m: Measure, text: str) -> str:
    return text if m.ok else (m.error or "not run")


# ---- setup ---------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True).stdout.strip()
        if dirty:
            commit += "+dirty"
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "nproc": nproc,
        "cpu": cpu,
        "kernel": platform.release(),
        "mem_gib": mem,
        "loadavg_at_start": None if load is None else [round(x, 2) for x in load],
        "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "peak_rss_method": RSS_METHOD,
    }


def build(want_bare: bool) -> tuple[Path, Path | None]:
    cargo = shutil.which("cargo")
    if not cargo:
        raise BenchError("cargo is not on PATH: install the Rust toolchain (https://rustup.rs) or put cargo on PATH")
    try:
        meta = subprocess.run([cargo, "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as e:
        raise BenchError(f"cargo metadata failed: {e.stderr.strip()[-500:]}") from e
    target = Path(json.loads(meta.stdout)["target_directory"])
    cmd = [cargo, "build", "--release", "--bin", "fraclab"] + (["--example", "bare_loop"] if want_bare else [])
    log("building: " + " ".join(cmd[1:]))
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        raise BenchError(f"`{' '.join(cmd[1:])}` failed (exit {r.returncode})")
    log(f"built in {time.perf_counter() - t:.0f} s; binaries under {target / 'release'}")
    fraclab = target / "release" / "fraclab"
    bare = target / "release" / "examples" / "bare_loop" if want_bare else None
    for p in (fraclab, bare):
        if p is not None and not p.exists():
            raise BenchError(f"the build did not produce {p}")
    return fraclab, bare


def venv_python() -> Path:
    """bench/.venv's python with SimPy, created on first use."""
    py = VENV / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import simpy"], capture_output=True).returncode == 0:
        return py
    log(f"creating {VENV.relative_to(ROOT)} with {SIMPY_REQUIREMENT} …")
    r = subprocess.run([sys.executable, "-m", "venv", str(VENV)], stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"python -m venv {VENV} failed (exit {r.returncode})")
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SIMPY_REQUIREMENT], stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"pip install {SIMPY_REQUIREMENT} failed (exit {r.returncode}); no network?")
    return py


def messages_expected(n: int, epochs: int) -> int:
    """fraclab's lossless message count for SM init + additive keygen:
    n pads, then a confirmation after init and after each of the epochs and
    an HFK broadcast per epoch, each payload acked."""
    return 2 * n + 2 * n * (n - 1) * (2 * epochs + 1)


def events_expected(n: int, epochs: int) -> int:
    """Deliveries plus the n · epochs rekey timers."""
    return messages_expected(n, epochs) + n * epochs


# ---- the workloads ---------------------------------------------------------------


def w_events(b: Bench) -> None:
    """a. events/s by n: toy-64, SM init, additive, ideal, no trace, no analysis."""
    ns = [16, 64, 256] if b.a.quick else [16, 64, 128, 256, 512, 1024]
    for n in ns:
        epochs = b.a.epochs_1024 if n == 1024 else 10
        m = b.record("events", f"n{n}", b.run_fraclab(f"a events n={n} ({epochs} epochs)", f"bench-events-n{n}", n=n, epochs=epochs))
        b.row(f"a. events/s, n = {n}, {epochs} epochs", measured_or_error(m, f"{rate(m.rate())} ({num(m.info.get('events', 0))} events, {secs(m.wall)}, {mib(m.rss_mib)}, {runs_note(m)})"), key=f"events.n{n}")
    r = b.results["events"]
    e64, e1024 = r.get("n64"), r.get("n1024")
    if e64 and e1024 and e64.rate() and e1024.rate():
        flat = e64.rate() / e1024.rate()
        b.row("a. flatness: events/s n = 64 ÷ n = 1024", f"{flat:.2f}×", "≤ 1.5×", flat <= 1.5, key="events.flatness")
    else:
        b.row("a. flatness: events/s n = 64 ÷ n = 1024", "not measured" if not e1024 else (e1024.error or "—"), "≤ 1.5×", None, key="events.flatness")
    e256 = r.get("n256")
    b.row("a. events/s at n = 256", rate(e256.rate()) if e256 and e256.ok else "not measured", "≥ 5 M/s", None if not (e256 and e256.ok) else e256.rate() >= 5e6, key="events.n256_rate")


def w_bare(b: Bench) -> None:
    """b. The bare event loop with the same event count as fraclab at n = 256."""
    n, epochs = 256, 10
    f = b.results.get("events", {}).get("n256")
    if f and f.ok:
        events = f.info["events"]
    else:
        events = events_expected(n, epochs)
        log(f"b: fraclab's n = 256 run was not measured; using its expected event count {events}")
        f = b.record("events", "n256", b.run_fraclab("a events n=256 (10 epochs, for b)", "bench-events-n256", n=n, epochs=epochs))

    def after(child: Child, k: int) -> dict:
        d = json.loads(child.stdout.strip().splitlines()[-1])
        return {"events": d["events"], "in_flight": d["in_flight"], "loop_s": d["elapsed_s"]}

    m = b.record("bare", "n256", b.measure(f"b bare loop ({events} events, {n}·{n - 1} in flight)", lambda k: [str(b.bare), str(events), str(n)], after))
    b.row("b. bare event loop, same events as n = 256", measured_or_error(m, f"{rate(m.rate())} ({secs(m.wall)}, {m.info.get('in_flight', 0)} in flight)"), key="bare.rate")
    if m.ok and f.ok:
        ratio = f.rate() / m.rate()
        b.row("b. fraclab ÷ bare loop (events/s, n = 256)", f"{ratio:.2f}", "≥ 0.75", ratio >= 0.75, key="bare.ratio")
    else:
        b.row("b. fraclab ÷ bare loop (events/s, n = 256)", "not measured", "≥ 0.75", None, key="bare.ratio")


def w_simpy(b: Bench) -> None:
    """c. The SimPy model of the same workload, process and callback styles."""
    n, epochs = (32, 10) if b.a.quick else (64, 10)
    f = b.results.get("events", {}).get(f"n{n}")
    if not (f and f.ok and f.info.get("epochs") == epochs):
        f = b.record("simpy", "fraclab", b.run_fraclab(f"c fraclab n={n} ({epochs} epochs)", f"bench-simpy-n{n}", n=n, epochs=epochs))
    else:
        b.record("simpy", "fraclab", f)
    try:
        py = venv_python()
    except Exception as e:  # noqa: BLE001 - the other workloads go on
        b.row("c. SimPy model", f"not run: {e}", "≥ 25×", None, key="simpy")
        return
    model = BENCH / "simpy_model.py"
    for style in ("callback", "process"):

        def after(child: Child, k: int) -> dict:
            d = json.loads(child.stdout.strip().splitlines()[-1])
            if not d["keys_agreed"]:
                raise ValueError("the model's keys did not agree")
            return {"events": d["events"], "messages": d["messages"], "loop_s": d["elapsed_s"]}

        m = b.record("simpy", style, b.measure(f"c SimPy {style} n={n} ({epochs} epochs)", lambda k: [str(py), str(model), "--style", style, "--members", str(n), "--epochs", str(epochs)], after))
        if f.ok and m.ok:
            same = m.info["messages"] == f.info["messages_sent"]
            counts = f"messages: SimPy {num(m.info['messages'])}, fraclab {num(f.info['messages_sent'])}" + ("" if same else " (DIFFER)")
        else:
            counts = ""
        b.row(f"c. SimPy {style} style, n = {n}, {epochs} epochs", measured_or_error(m, f"{rate(m.rate())} ({secs(m.wall)}; {counts})"), key=f"simpy.{style}")
        if f.ok and m.ok:
            ratio = f.rate() / m.rate()
            target, met = ("≥ 25×", ratio >= 25) if style == "callback" else ("—", None)
            b.row(f"c. fraclab ÷ SimPy {style} (events/s)", f"{ratio:.1f}× (fraclab {rate(f.rate())})", target, met, key=f"simpy.ratio_{style}")
        elif style == "callback":
            b.row("c. fraclab ÷ SimPy callback (events/s)", "not measured", "≥ 25×", None, key="simpy.ratio_callback")


def w_big(b: Bench, name: str, n: int, params: str, wall_t: float, rss_t_mib: float, letter: str) -> None:
    m = b.record(name, f"n{n}", b.run_fraclab(f"{letter} n={n} {params} (1 epoch)", f"bench-{name}", n=n, epochs=1, params=params, timeout=b.a.slow_timeout))
    label = f"{letter}. n = {n}, {params}, 1 epoch"
    if m.ok:
        b.row(f"{label}: wall", f"{secs(m.wall)} ({num(m.info['events'])} events, {runs_note(m)})", f"≤ {wall_t:g} s", m.wall <= wall_t, key=f"{name}.wall")
        b.row(f"{label}: peak RSS", mib(m.rss_mib), f"≤ {mib(rss_t_mib)}", m.rss_mib <= rss_t_mib, key=f"{name}.rss")
    else:
        after = m.info.get("failed_after_s")
        b.row(f"{label}: wall", (m.error or "not run") + (f" after {secs(after)}" if after is not None and "timeout" not in (m.error or "") else ""), f"≤ {wall_t:g} s", False, key=f"{name}.wall")
        rss = m.info.get("failed_peak_rss_mib")
        b.row(f"{label}: peak RSS", f"≥ {mib(rss)} when stopped" if rss else "—", f"≤ {mib(rss_t_mib)}", False if rss and rss > rss_t_mib else None, key=f"{name}.rss")


def w_analysis(b: Bench) -> None:
    """f. The knowledge analysis: ring init, 10 epochs, one α leak."""
    ns = [16, 32, 64] if b.a.quick else [64, 128, 256]
    if b.a.skip_slow and not b.a.quick:
        ns = [64, 128]
    if b.a.analysis_1024:
        ns.append(1024)
    ms = {}
    for n in ns:
        m = b.record("analysis", f"n{n}", b.run_fraclab(f"f analysis n={n} (10 epochs)", f"bench-analysis-n{n}", n=n, epochs=10, init="ring", leak=True, analysis=True, timeout=b.a.slow_timeout, keep=lambda out, s: {"compromised": s.get("compromised")}))
        ms[n] = m
        limit = {256: 5, 1024: 120}.get(n)
        target, met = (f"≤ {limit} s", m.ok and m.wall <= limit) if limit else ("—", None)
        b.row(f"f. analysis, n = {n}: wall", measured_or_error(m, f"{secs(m.wall)} ({mib(m.rss_mib)}, {runs_note(m)})"), target, met if m.ok or limit else None, key=f"analysis.n{n}")
    if b.a.skip_slow and not b.a.quick:
        b.row("f. analysis, n = 256: wall", "skipped (--skip-slow)", "≤ 5 s", None, key="analysis.n256")
    lo, hi = (16, 64) if b.a.quick else (64, 256)
    label = f"f. growth exponent log(t{hi}/t{lo}) / log({hi // lo})"
    mlo, mhi = ms.get(lo), ms.get(hi)
    if mlo and mlo.ok and mhi and mhi.ok:
        k = math.log(mhi.wall / mlo.wall) / math.log(hi / lo)
        b.row(label, f"{k:.2f}", "≤ 2.3", k <= 2.3, key="analysis.exponent")
    elif mlo and mlo.ok and mhi and "timeout_s" in mhi.info:
        k = math.log(mhi.info["timeout_s"] / mlo.wall) / math.log(hi / lo)
        b.row(label, f"> {k:.2f} (n = {hi} timed out)", "≤ 2.3", False, key="analysis.exponent")
    else:
        b.row(label, "not measured", "≤ 2.3", None, key="analysis.exponent")


def w_xor(b: Bench) -> None:
    """i. The analysis of f under XOR (GF(2)) against addition mod q, same run."""
    ns = [16, 32] if b.a.quick else [64, 128]
    for n in ns:
        ms = {}
        for params in ("toy-64", "xor-64", "xor-256"):
            label = f"i analysis n={n} {params}"
            ms[params] = b.record("xor", f"n{n}-{params}", b.run_fraclab(label, f"bench-xor-n{n}-{params}", n=n, epochs=10, init="ring", leak=True, analysis=True, params=params, timeout=b.a.slow_timeout))
        base = ms["toy-64"]
        for params in ("xor-64", "xor-256"):
            m = ms[params]
            if m.ok and base.ok:
                text = f"{m.wall / base.wall:.2f}× ({secs(m.wall)} vs {secs(base.wall)}, {runs_note(m)})"
            else:
                text = measured_or_error(m if not m.ok else base, "")
            b.row(f"i. analysis n = {n}, {params} / toy-64: wall", text, key=f"xor.n{n}.{params}")


def w_sweep(b: Bench) -> None:
    """g. `fraclab sweep --jobs 2` against `--jobs 1`."""
    seeds = 5 if b.a.quick else 40
    sc = ROOT / "scenarios" / "baseline-ring.toml"
    grid = ["--vary", "protocol.members=3..10", "--vary", "protocol.init=sm,ring,ring-hardened", "--seeds", str(seeds)]
    ms = {}
    for jobs in (1, 2):
        name = f"bench-sweep-j{jobs}"

        def cmd(k: int, jobs=jobs, name=name) -> list[str]:
            out = b.work / f"{name}-{k}"
            shutil.rmtree(out, ignore_errors=True)
            return [str(b.fraclab), "sweep", str(sc), *grid, "--jobs", str(jobs), "--out", str(out), "--quiet"]

        def after(child: Child, k: int, name=name) -> dict:
            out = b.work / f"{name}-{k}"
            try:
                rows = (out / "sweep.csv").read_text().count("\n") - 1
                return {"runs_in_sweep": rows}
            finally:
                shutil.rmtree(out, ignore_errors=True)

        ms[jobs] = b.record("sweep", f"jobs{jobs}", b.measure(f"g sweep --jobs {jobs} ({24 * seeds} runs)", cmd, after))
        m = ms[jobs]
        b.row(f"g. sweep baseline-ring, 24 points × {seeds} seeds, --jobs {jobs}", measured_or_error(m, f"{secs(m.wall)} ({m.cpu_share or 0:.2f} cores busy, {runs_note(m)})"), key=f"sweep.jobs{jobs}")
    if ms[1].ok and ms[2].ok:
        ratio = ms[1].wall / ms[2].wall
        b.row("g. sweep speed-up, --jobs 2 over --jobs 1", f"{ratio:.2f}×", "≥ 1.8×", ratio >= 1.8, key="sweep.ratio")
    else:
        b.row("g. sweep speed-up, --jobs 2 over --jobs 1", "not measured", "≥ 1.8×", None, key="sweep.ratio")


def w_trace(b: Bench) -> None:
    """h. trace = "full" against trace = "none"."""
    n, epochs = (64, 3) if b.a.quick else (256, 3)
    ms = {}
    for level in ("none", "full"):
        keep = (lambda out, s: {"trace_bytes": (out / "trace.jsonl").stat().st_size}) if level == "full" else None
        ms[level] = b.record("trace", level, b.run_fraclab(f"h trace {level} n={n} ({epochs} epochs)", f"bench-trace-{level}", n=n, epochs=epochs, trace=level, keep=keep))
    full, none = ms["full"], ms["none"]
    b.row(f"h. trace none, n = {n}, {epochs} epochs", measured_or_error(none, f"{secs(none.wall)} ({rate(none.rate())})"), key="trace.none")
    if full.ok:
        size = full.info["trace_bytes"]
        b.row(f"h. trace full, same run", f"{secs(full.wall)}; {size / 1e6:.0f} MB of trace, {size / 1e6 / full.wall:.1f} MB/s", key="trace.full")
    else:
        b.row("h. trace full, same run", full.error or "not run", key="trace.full")
    if full.ok and none.ok:
        ratio = full.wall / none.wall
        b.row("h. wall: trace full ÷ trace none", f"{ratio:.2f}×", "≤ 2× (tracing does not dominate)", ratio <= 2, key="trace.ratio")
    else:
        b.row("h. wall: trace full ÷ trace none", "not measured", "≤ 2× (tracing does not dominate)", None, key="trace.ratio")


# ---- output ---------------------------------------------------------------------


def met_text(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[met]


def table_text(rows: list[dict]) -> str:
    head = ("workload", "measured", "target", "met?")
    cells = [head] + [(r["workload"], r["measured"], r["target"], met_text(r["met"])) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(c[i].ljust(widths[i]) for i in range(4)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table_markdown(rows: list[dict]) -> str:
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = ["| workload | measured | target | met? |", "|---|---|---|---|"]
    lines += [f"| {esc(r['workload'])} | {esc(r['measured'])} | {esc(r['target'])} | {met_text(r['met'])} |" for r in rows]
    return "\n".join(lines)


def machine_line(mc: dict) -> str:
    load = mc["loadavg_at_start"]
    return (
        f"{mc['date']} · commit {mc['commit']} · {mc['nproc']} cores, {mc['cpu']}, {mc['mem_gib']} GiB · "
        f"Linux {mc['kernel']} · load average at start {' '.join(map(str, load)) if load else '?'}"
        + (f", at end {' '.join(map(str, mc['loadavg_at_end']))}" if mc.get("loadavg_at_end") else "")
    )


def rewrite_readme(text_block: str) -> None:
    text = README.read_text()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise BenchError(f"README.md has no {BEGIN} … {END} block to rewrite")
    README.write_text(text[: i + len(BEGIN)] + "\n" + text_block + "\n" + text[j:])
    log("rewrote README.md's benchmark block")


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="fraclab's macro benchmarks (bench/README.md).", formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer and smaller workloads, 1 run each: a smoke test")
    ap.add_argument("--skip-slow", action="store_true", help="skip d (n = 1024 on modp-2048), e (n = 4096) and f's n = 256")
    ap.add_argument("--runs", type=int, help="runs per measurement, median kept (default 3; 1 with --quick)")
    ap.add_argument("--only", help="comma list of workloads: " + ", ".join(f"{k}/{v}" for k, v in WORKLOADS.items()))
    ap.add_argument("--json", type=Path, metavar="FILE", help="write every number to FILE")
    ap.add_argument("--readme", action="store_true", help=f"rewrite README.md between {BEGIN} and {END}")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed (default 600)")
    ap.add_argument("--slow-timeout", type=float, default=300, help="the same for d, e and f (default 300)")
    ap.add_argument("--budget", type=float, default=120, help="no further run of a measurement once another would pass this many seconds in all (default 120)")
    ap.add_argument("--mem-limit-gib", type=float, default=8, help="address-space cap per run, GiB; 0 for none (default 8)")
    ap.add_argument("--epochs-1024", type=int, default=2, help="epochs of a's n = 1024 run (default 2)")
    ap.add_argument("--analysis-1024", action="store_true", help="add n = 1024 to f")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (scenarios, outputs)")
    ap.add_argument("--from-json", type=Path, metavar="FILE", help="measure nothing: print (and with --readme publish) the table of an earlier --json FILE")
    a = ap.parse_args(argv)
    if a.runs is None:
        a.runs = 1 if a.quick else 3
    if a.runs < 1:
        ap.error("--runs must be ≥ 1")
    a.mem_limit = int(a.mem_limit_gib * 1024**3)
    if a.only:
        names = []
        for w in a.only.split(","):
            w = w.strip()
            w = WORKLOADS.get(w, w)
            if w not in WORKLOADS.values():
                ap.error(f"--only: unknown workload {w!r}; allowed: " + ", ".join(WORKLOADS.values()))
            names.append(w)
        a.selected = [w for w in WORKLOADS.values() if w in names]
    else:
        a.selected = list(WORKLOADS.values())
    if a.skip_slow:
        a.selected = [w for w in a.selected if w not in SLOW]
    return a


def shown_options(argv: list[str]) -> list[str]:
    """The options that change what is measured (not --json FILE, --readme, --keep)."""
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
        elif x == "--json":
            skip = True
        elif not (x.startswith("--json=") or x in ("--readme", "--keep")):
            out.append(x)
    return out


def run_all(a: argparse.Namespace) -> Bench | int:
    """Builds, runs the selected workloads and returns their rows (or an
    exit status when setup failed)."""
    work = Path(tempfile.mkdtemp(prefix="fraclab-bench-"))
    b = Bench(a, work)
    try:
        b.fraclab, b.bare = build("bare" in a.selected)
        for w in a.selected:
            log(f"== {w} ==")
            if w == "events":
                w_events(b)
            elif w == "bare":
                w_bare(b)
            elif w == "simpy":
                w_simpy(b)
            elif w == "modp1024":
                w_big(b, "modp1024", 1024, "modp-2048", 2, 512, "d")
            elif w == "n4096":
                w_big(b, "n4096", 4096, "toy-64", 30, 4096, "e")
            elif w == "analysis":
                w_analysis(b)
            elif w == "sweep":
                w_sweep(b)
            elif w == "trace":
                w_trace(b)
            elif w == "xor":
                w_xor(b)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return b


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.from_json:
        try:
            data = json.loads(a.from_json.read_text())
            mc, rows, command = data["machine"], data["rows"], data.get("command", "python3 bench/run.py")
        except (OSError, ValueError, KeyError) as e:
            print(f"error: --from-json {a.from_json}: {e}", file=sys.stderr)
            return 2
        workloads = data.get("workloads", {})
    else:
        mc = machine()
        log(machine_line(mc))
        b = run_all(a)
        if isinstance(b, int):
            return b
        rows = b.rows
        if hasattr(os, "getloadavg"):
            mc["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        command = " ".join(["python3 bench/run.py", *shown_options(argv)])
        workloads = {w: {k: m.to_json() for k, m in ms.items()} for w, ms in b.results.items()}

    print(f"fraclab benchmarks · {machine_line(mc)}")
    print(f"command: {command}; each figure is the median of the runs noted")
    print(table_text(rows))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": "fraclab-bench/1",
            "command": command,
            "machine": mc,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
            "rows": rows,
            "workloads": workloads,
        }
        a.json.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {a.json}")
    if a.readme:
        block = "\n".join([f"Measured by `{command}` on {machine_line(mc)}.", "", table_markdown(rows)])
        try:
            rewrite_readme(block)
        except BenchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
