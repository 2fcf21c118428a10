"""The benchmark report's lines on the web server's CPU and peaks: every candidate server's bare and
cached-list peaks, the registration-week mix's CPU per request against bare Django's (at the peak
and under the mix's own load), and the product's CPU inside Django by route."""

from __future__ import annotations

from typing import Any

from benchmarks.rush_report import format_ms


def peak_lines(
    peak: dict[str, Any], *, product: dict[str, Any] | None, bare_at_mix_load: dict[str, Any] | None = None
) -> list[str]:
    """Every candidate web server's bare and cached-list peaks (benchmarks/servers.py), and the
    registration-week mix's CPU per request against a bare request's on the product's server: at the
    peak, and under the mix's own load when the run measured it (scenarios.measure_bare_at_mix_load)."""
    lines = [
        "",
        f"Peak throughput by web server: wrk with keep-alive, {peak['connections']} connections on "
        f"{peak['threads']} threads, {peak['rounds']} alternating rounds of {peak['seconds_per_round']:.0f} s per "
        "server and endpoint (req/s over all rounds; p50 of the median round, p99 of the worst; one run):",
        "",
        "| server | bare req/s | bare p99 | bare CPU ms/req | cached list req/s | cached p50 | cached p99 "
        "| cached CPU ms/req | cached / fastest bare | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fastest_bare = peak["servers"][peak["fastest_bare_server"]]["bare"]["requests_per_second"]
    for name, figures in peak["servers"].items():
        bare, cached = figures["bare"], figures["cached course list"]
        ratio = cached["requests_per_second"] / fastest_bare if fastest_bare else 0
        lines.append(
            f"| {name} | {bare['requests_per_second']:,.0f} | {format_ms(bare['p99_ms'])} "
            f"| {bare['cpu_ms_per_request']:.2f} | {cached['requests_per_second']:,.0f} "
            f"| {format_ms(cached['p50_ms'])} | {format_ms(cached['p99_ms'])} | {cached['cpu_ms_per_request']:.2f} "
            f"| {ratio:.0%} | {bare['errors'] + cached['errors']} |"
        )
    if peak["cached_over_fastest_bare"] is not None:
        lines.append(
            f"\nThe product's cached course list reaches {peak['cached_over_fastest_bare']:.0%} of the fastest bare "
            f"Django ({peak['fastest_bare_server']}) and {peak['cached_over_bare_same_server']:.0%} of bare Django "
            f"on its own server. Fastest cached list: {peak['fastest_cached_server']}"
            + ("." if peak["product_is_fastest"] else ", not the product's server: reconsider the default.")
        )
    bare_cpu = peak.get("bare_cpu_ms_per_request")
    mix_cpu = (product or {}).get("server_cpu_ms_per_request")
    if bare_cpu and mix_cpu:
        lines.append(
            f"The registration-week mix cost {mix_cpu:.2f} ms of server CPU per request, {mix_cpu / bare_cpu:.1f}x a "
            f"bare Django request's at the peak ({bare_cpu:.2f} ms) on the same server."
        )
    bare_at_load_cpu = (bare_at_mix_load or {}).get("server_cpu_ms_per_request")
    if bare_at_load_cpu and mix_cpu:
        lines.append(
            f"Under the mix's own load ({bare_at_mix_load['users']} users, "
            f"{bare_at_mix_load['requests_per_second']:.0f} req/s), a bare Django request cost "
            f"{bare_at_load_cpu:.2f} ms: the mix cost {mix_cpu / bare_at_load_cpu:.1f}x that."
        )
    return lines


def route_cpu_lines(product: dict[str, Any] | None) -> list[str]:
    """Where the product's CPU went inside Django, by route (benchmarks/instrumentation.py)."""
    routes = (product or {}).get("cpu_by_route")
    if not routes:
        return []
    lines = [
        "",
        f"The product's CPU inside Django by route: {product['django_cpu_ms_per_request']:.2f} ms per request of "
        f"the {product['server_cpu_ms_per_request']:.2f} ms its server spent (the rest: the web server's own, "
        "outside Django; one run):",
        "",
        "| route | requests | CPU ms/request | share of the CPU inside Django |",
        "|---|---|---|---|",
    ]
    for route, figures in routes.items():
        share = figures["share_of_django_cpu"]
        lines.append(
            f"| `{route}` | {figures['requests']:,} | {figures['cpu_ms_per_request']:.2f} "
            f"| {'n/a' if share is None else f'{share:.1%}'} |"
        )
    return lines
