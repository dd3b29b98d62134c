"""Benchmark: vsee-mock next to Stoplight Prism on the same spec and workloads, plus the contract suite's wall
time next to `schemathesis run`. Everything on 127.0.0.1, every run bounded in time. Prints a Markdown table and
writes it to bench/results.md.

    python3 dev.py bench [--duration 5] [--skip-prism] [--skip-suite]

wrk (Debian package) is the load generator; it is installed with apt-get when missing and possible. Prism
(@stoplight/prism-cli) is installed with npm into bench/.prism. The load generator shares the 2 cores with the
server, so its own CPU use is reported per row.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BEGIN, END = "<!-- bench/run.py: begin -->", "<!-- bench/run.py: end -->"  # its part of results.md
PRISM_DIR = BENCH / ".prism"
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"
ACCOUNT, TOKEN = "vclinic", "83ec6843c3af534c551ab609d869dd82"
CONNECTIONS = (1, 16, 64)
READS = {"GET /rooms/{code}": "/rooms/ceproom1", "GET /rooms?limit=20": "/rooms?limit=20"}
MIX = "90/10 GET /rooms/{code} + POST /rooms"


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator_cpu: float  # CPU seconds the load generator used per wall second


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, timeout=300)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=300)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, timeout=300)
    found = shutil.which("wrk")
    if not found:
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    return found


def ensure_prism() -> Path | None:
    if PRISM.exists():
        return PRISM
    if not shutil.which("npm"):
        return None
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--silent", "@stoplight/prism-cli@5"],
        check=True,
        timeout=600,
    )
    return PRISM if PRISM.exists() else None


def start(command: list[str], probe: str, headers: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; return it and the seconds from process start to its first 200 on `probe`."""
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = began + 60
    while time.perf_counter() < deadline:
        try:
            if requests.get(probe, headers=headers, timeout=1).status_code == 200:
                return process, time.perf_counter() - began
        except requests.ConnectionError:
            time.sleep(0.005)
    process.kill()
    sys.exit(f"bench: {command[0]} did not answer {probe} within 60 s")


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Peak resident memory of the process and its children (npx/node wrappers), from /proc."""
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            total += int(match.group(1)) if match else 0
    return total / 1024


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(binary: str, url: str, connections: int, duration: int, script: Path | None = None) -> Load:
    """One bounded wrk run; its own CPU time comes from wait4's resource usage."""
    command = [
        binary,
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-H",
        f"X-AccountCode: {ACCOUNT}",
        "-H",
        f"X-ApiToken: {TOKEN}",
    ]
    if script:
        command += ["-s", str(script)]
    process = subprocess.Popen([*command, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _, _, usage = os.wait4(process.pid, 0)
    out = process.stdout.read() if process.stdout else ""
    cpu = (usage.ru_utime + usage.ru_stime) / duration

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(g) for g in socket_errors.groups()) if socket_errors else 0
    return Load(float(rps.group(1)) if rps else 0.0, latency("50"), latency("99"), errors, cpu)


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time and exit code of a command run in a scratch folder (schemathesis leaves a cache behind)."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            command, cwd=scratch, capture_output=True, env={**os.environ, **(env or {})}, timeout=900
        )
    return time.perf_counter() - began, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run (default 5)")
    parser.add_argument("--skip-prism", action="store_true")
    parser.add_argument("--skip-suite", action="store_true")
    args = parser.parse_args()
    wrk_bin = ensure_wrk()
    prism = None if args.skip_prism else ensure_prism()
    headers = {"X-AccountCode": ACCOUNT}
    rows: list[str] = []
    servers: dict[str, dict[str, str]] = {}

    port = free_port()
    mock_base = f"http://127.0.0.1:{port}/api_v3"
    mock, mock_start = start(
        [sys.executable, "-m", "mock_server", "--port", str(port), "--quiet"], f"{mock_base}/rooms", headers
    )
    results: dict[tuple[str, str, int], Load] = {}
    try:
        for name, path in READS.items():
            for c in CONNECTIONS:
                results[("mock", name, c)] = wrk(wrk_bin, mock_base + path, c, args.duration)
        for c in CONNECTIONS:
            results[("mock", MIX, c)] = wrk(
                wrk_bin, mock_base + READS["GET /rooms/{code}"], c, args.duration, BENCH / "mix.lua"
            )
        suite = [] if args.skip_suite else suite_times(mock_base)
    finally:
        mock_rss = peak_rss_mb(mock)
        stop(mock)
    servers["vsee-mock"] = {"start": f"{mock_start:.2f} s", "rss": f"{mock_rss:.0f} MB"}

    if prism:
        port = free_port()
        prism_base = f"http://127.0.0.1:{port}"
        spec = str(ROOT / "openapi.yaml")
        server, prism_start = start(
            [str(prism), "mock", spec, "-p", str(port), "-h", "127.0.0.1", "-v", "error"],
            f"{prism_base}/rooms",
            headers,
        )
        try:
            for name, path in READS.items():
                for c in CONNECTIONS:
                    results[("prism", name, c)] = wrk(wrk_bin, prism_base + path, c, args.duration)
        finally:
            prism_rss = peak_rss_mb(server)
            stop(server)
        servers["Prism 5 (static, -v error)"] = {"start": f"{prism_start:.2f} s", "rss": f"{prism_rss:.0f} MB"}

    rows += [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores, "
        f"{args.duration} s per load run, wrk with min(2, connections) threads.",
        "",
        "| workload | conns | mock req/s | mock p50 / p99 | Prism req/s | Prism p50 / p99 | mock/Prism | wrk CPU (mock run) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in [*READS, MIX]:
        for c in CONNECTIONS:
            m = results[("mock", name, c)]
            p = results.get(("prism", name, c))
            prism_cols = (
                f"{p.rps:,.0f} | {p.p50_ms:.2f} / {p.p99_ms:.2f} ms | {m.rps / p.rps:.2f}×"
                if p and p.rps
                else "— | — | —"
            )
            errors = f" ({m.errors} non-2xx)" if m.errors and name != MIX else ""
            rows.append(
                f"| {name} | {c} | {m.rps:,.0f}{errors} | {m.p50_ms:.2f} / {m.p99_ms:.2f} ms | "
                f"{prism_cols} | {m.generator_cpu:.2f} cores |"
            )
    rows += ["", "| server | start to first 200 | peak RSS |", "|---|---|---|"]
    rows += [f"| {name} | {v['start']} | {v['rss']} |" for name, v in servers.items()]
    if suite:
        rows += ["", "| contract check | wall time | exit |", "|---|---|---|", *suite]
    table = "\n".join(rows)
    print(table)
    write_between_markers(BENCH / "results.md", table)
    return 0


def write_between_markers(path: Path, table: str) -> None:
    """Replace only this script's part of the results file; the hand-kept sections around it stay."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")


def suite_times(mock_base: str) -> list[str]:
    """The suite per profile, in-process and over HTTP, next to `schemathesis run` with comparable examples."""
    pytest = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "contract_tests",
        "-q",
        "-p",
        "no:cacheprovider",
        "--contract-seed",
        "7",
    ]
    http = [
        "--base-url",
        mock_base,
        "--contract-allow-writes",
        "--contract-account-code",
        ACCOUNT,
        "--contract-api-token",
        TOKEN,
        "--contract-max-writes",
        "5000",
    ]
    env = {"PYTHONDONTWRITEBYTECODE": ""}
    rows = []
    for profile in ("quick", "ci", "thorough"):
        seconds, code = timed([*pytest, "--contract-profile", profile], env)
        rows.append(f"| `pytest contract_tests --contract-profile {profile}` (in-process) | {seconds:.1f} s | {code} |")
        seconds, code = timed([*pytest, "--contract-profile", profile, *http], env)
        rows.append(f"| same, over HTTP against vsee-mock | {seconds:.1f} s | {code} |")
    st = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(ROOT / "openapi.yaml"),
        "--url",
        mock_base,
        "-H",
        f"X-AccountCode: {ACCOUNT}",
        "-H",
        f"X-ApiToken: {TOKEN}",
        "--seed",
        "7",
        "--max-examples",
        "15",
        "--phases",
        "examples,coverage,fuzzing",
    ]
    seconds, code = timed(st)
    rows.append(f"| `schemathesis run` (examples, coverage, fuzzing; 15 examples) | {seconds:.1f} s | {code} |")
    return rows


if __name__ == "__main__":
    sys.exit(main())
