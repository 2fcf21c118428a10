"""A closed-loop HTTP load generator for peak throughput: processes x threads, each sending one
request per connection (gunicorn's sync workers close every connection) and waiting for the answer
before the next. Raw sockets and a prebuilt request keep the generator's own cost per request low,
so more of the two cores go to the server; what matters is the ratio between two endpoints measured
the same way.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from dataclasses import dataclass

from benchmarks.stats import percentile


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        return percentile(self.latencies_ms, fraction)


def _request_bytes(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _one(host: str, port: int, request: bytes) -> bool:
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks[:1]).startswith(b"HTTP/1.1 200")


def _process(target: tuple[str, int, bytes], threads: int, seconds: float, queue: multiprocessing.Queue) -> None:
    host, port, request = target
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = _one(host, port, request)
            except OSError:
                ok = False
            if ok:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((latencies, errors[0]))


def run(
    *, host: str, port: int, path: str, headers: dict[str, str], seconds: float, processes: int, connections: int
) -> LoadResult:
    """`connections` concurrent closed loops spread over `processes` processes, for `seconds`."""
    request = _request_bytes(host, port, path, headers)
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = context.Queue()
    threads = max(1, connections // processes)
    started = time.monotonic()
    # Daemons, and terminated on the way out: a failed or interrupted run leaves no load behind.
    children = [
        context.Process(target=_process, args=((host, port, request), threads, seconds, queue), daemon=True)
        for _ in range(processes)
    ]
    latencies: list[float] = []
    errors = 0
    try:
        for child in children:
            child.start()
        for _ in children:
            child_latencies, child_errors = queue.get(timeout=seconds + 120)
            latencies.extend(child_latencies)
            errors += child_errors
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
            child.join(timeout=10)
    return LoadResult(
        requests=len(latencies), errors=errors, seconds=time.monotonic() - started, latencies_ms=latencies
    )
