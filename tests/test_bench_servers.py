"""benchmarks/servers.py reads wrk's summary right: the peak figures of every candidate server come
from it."""

from __future__ import annotations

import pytest

from benchmarks.servers import parse_wrk

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8123/bench/bare
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.01ms  40.30ms   81.20%
    Req/Sec     3.21k   312.45     3.90k    70.00%
  Latency Distribution
     50%    4.80ms
     75%    5.90ms
     90%    7.10ms
     99%   12.50ms
  31952 requests in 5.01s, 6.80MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   6377.64
Transfer/sec:      1.36MB
"""


def test_wrk_summary_gives_requests_duration_percentiles_and_errors() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 31952
    assert result.seconds == pytest.approx(5.01)
    assert result.p50_ms == pytest.approx(4.8)
    assert result.p99_ms == pytest.approx(12.5)
    assert result.errors == 3 + 2 + 7


def test_wrk_units_are_converted_to_milliseconds() -> None:
    output = WRK_OUTPUT.replace("4.80ms", "950.00us").replace("12.50ms", "1.20s").replace("in 5.01s", "in 1.00m")
    result = parse_wrk(output)
    assert result.p50_ms == pytest.approx(0.95)
    assert result.p99_ms == pytest.approx(1200)
    assert result.seconds == pytest.approx(60)


def test_a_run_without_a_summary_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no summary"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
