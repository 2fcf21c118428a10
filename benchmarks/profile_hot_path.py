"""Where a cached course list spends its time: py-spy samples one web process under wrk's load and
writes a flame graph (SVG) and the top frames.

    .venv/bin/python -m benchmarks.profile_hot_path [--seconds 15] [--connections 2]

One process with one thread (BENCH_WEB_WORKERS and BENCH_WEB_THREADS default to 1 here), driven by
a few connections, so the samples show the request's own work rather than processes waiting for a
core. Frames are counted over the samples inside Django's WSGI handler. Output in
BENCH_OUTPUT_DIR/profile/ (default .run/bench/profile/): flame.svg, stacks.txt (collapsed stacks)
and top.txt; docs/benchmarks.md keeps the figures and docs/flamegraphs/ the SVGs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.api_client import get_json, sign_in
from benchmarks.stack import base_url, running_stack
from benchmarks.variables import BenchVariables
from devstack.services import VENV_BIN

REQUEST_FRAME = "django/core/handlers/wsgi.py"
SMALL_DATASET = {
    "BENCH_COURSES": "300",
    "BENCH_STUDENTS": "50",
    "BENCH_ENROLLMENTS": "100",
    "BENCH_SEMESTERS": "2",
    "BENCH_DEPARTMENTS": "4",
}


def top_frames(stacks: Path, *, count: int = 10) -> list[tuple[float, str]]:
    """The frames with the most samples of their own (the leaf), as shares of the request samples."""
    own: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = stack.split(";")
        if not any(REQUEST_FRAME in frame for frame in frames):
            continue  # the server's own threads, the counters' flushers
        total += int(samples)
        own[frames[-1]] += int(samples)
    return [(samples / total, frame) for frame, samples in own.most_common(count)] if total else []


def _record(argv: list[str], output: Path, *, attempts: int = 3) -> bool:
    """Run a py-spy recording until it writes samples. Sampling without pausing the process (so that
    the pauses do not weigh on the system calls) fails now and then: py-spy reads the process's
    memory while it changes, and about one recording in two ended with an error or no samples."""
    for attempt in range(1, attempts + 1):
        recorded = subprocess.run(argv, check=False, capture_output=True, text=True)
        if recorded.returncode == 0 and output.exists() and output.stat().st_size > 0:
            return True
        print(f"py-spy recording {attempt}/{attempts} failed: {recorded.stderr.strip()[-500:]}", file=sys.stderr)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="seconds sampled (each of two recordings)")
    parser.add_argument("--connections", type=int, default=2, help="wrk's connections")
    arguments = parser.parse_args()
    for name, value in {**SMALL_DATASET, "BENCH_WEB_WORKERS": "1", "BENCH_WEB_THREADS": "1"}.items():
        os.environ.setdefault(name, value)
    py_spy, wrk = VENV_BIN / "py-spy", shutil.which("wrk")
    if not py_spy.exists() or wrk is None:
        print("needs py-spy (requirements/dev.txt) and wrk (devstack/install-wrk.sh)", file=sys.stderr)
        return 1
    variables = BenchVariables(quick=True)
    output_dir = variables.output_dir() / "profile"
    output_dir.mkdir(parents=True, exist_ok=True)
    with running_stack(output_dir, variables) as stack:
        stack.seed()
        server = stack.server(name="profile", cache_enabled=True)
        url = base_url(server)
        token = sign_in(url, "student1@demo.edu")
        target = f"{url}/api/courses?semester_id={variables.semester_ids()[0]}"
        get_json(target, token)
        load_seconds = 2 * arguments.seconds + 10
        wrk_argv = [wrk, "-t1", f"-c{arguments.connections}", f"-d{load_seconds}s", "--latency", target]
        load = subprocess.Popen(
            [*wrk_argv, "-H", f"Authorization: Bearer {token}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # past the first requests of each connection
        for output_format, name in (("raw", "stacks.txt"), ("flamegraph", "flame.svg")):
            record = [str(py_spy), "record", "--pid", str(server.process.pid), "--subprocesses", "--rate", "250"]
            sampling = ["--duration", str(arguments.seconds), "--nonblocking"]
            if not _record(
                [*record, *sampling, "--format", output_format, "-o", str(output_dir / name)], output_dir / name
            ):
                return 1
        wrk_output = load.communicate()[0]
    lines = [f"{share:6.1%}  {frame}" for share, frame in top_frames(output_dir / "stacks.txt")]
    (output_dir / "top.txt").write_text("\n".join([wrk_output, *lines]) + "\n")
    print(wrk_output)
    print("Own time of the top frames, as a share of the samples inside a request:")
    print("\n".join(lines))
    print(f"\nWritten to {output_dir} (flame.svg, stacks.txt, top.txt).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
