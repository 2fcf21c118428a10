"""The registration rush's lines of the benchmark report: its first seconds apart from the steady
state, each with latencies over all its requests and its own cache hit rate, and how the waitlists
took the seats dropped during it; with the latency formats the whole report shares."""

from __future__ import annotations

from typing import Any


def format_ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def measured_ms(figures: dict[str, Any] | None, key: str) -> str:
    """A latency, or n/a where nothing was measured (no such endpoint, no request in a phase)."""
    return format_ms(figures[key]) if figures and figures.get("requests", 1) else "n/a"


def format_failures(figures: dict[str, Any]) -> str:
    exceptions = figures.get("exceptions", 0)
    return f"{figures['failures']}" + (f" (+{exceptions} locust exceptions)" if exceptions else "")


def format_hit_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.2%}"


def format_per_second(rate: float | None) -> str:
    if rate is None:
        return "n/a"
    return f"{rate:,.1f}" if rate < 100 else f"{rate:,.0f}"


def rush_lines(rush: dict[str, Any]) -> list[str]:
    """The rush in one run: its two phases side by side, what it did to the seats, the enrolls'
    answers and the waitlists."""
    check = rush["seat_check"]
    counters_match = "yes" if check["counter_mismatches"] == 0 else f"{check['counter_mismatches']} mismatches"
    failures = format_failures({**rush, "failures": rush["all_failures"]})
    lines = [
        "",
        f"Registration rush, one run: {rush['enrollers']} students enroll into {rush['popular_courses']} popular "
        f"courses ({rush['free_seats_before']} free seats) when registration opens, while {rush['browsers']} browse; "
        f"{rush['seconds']} s from the opening.",
        "",
        "| enrolls answered | refused busy, sent again | failures | courses full | oversold | counter = records |",
        "|---|---|---|---|---|---|",
        f"| {rush['enroll_requests']} | {rush.get('enrolls_refused', 0)} | {failures} "
        f"| {check['full']}/{rush['popular_courses']} "
        f"| {check['oversold']} | {counters_match} |",
    ]
    return lines + rush_phase_lines(rush) + waitlist_lines(rush)


def rush_phase_lines(rush: dict[str, Any]) -> list[str]:
    """The rush's first seconds after the opening, apart from the steady state after them."""
    if "opening" not in rush:
        return []
    opening_seconds = rush["opening_seconds"]
    lines = [
        "",
        f"Registration opened at {rush['opens_at']}; the first {opening_seconds} s after it on their own, then the "
        "steady state (one run). Latencies are nearest-rank percentiles over every request of the phase, each timed "
        "by the locustfile; an enroll refused busy (429 writes_busy: its server process's write slots were all "
        "taken) is sent again after Retry-After, and click to answer runs from its first attempt to its answer; "
        "cache hits are the server's in the phase (/metrics, without the token check's lookups):",
        "",
        "| phase | enrolls answered | enroll p50 | enroll p99 | click to answer p50 | click to answer p99 "
        "| refused busy | browse requests | browse req/s | browse p50 | browse p99 | cache hits | 5xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    steady_seconds = rush["steady"].get("seconds")
    steady_label = (
        f"steady state ({opening_seconds}-{opening_seconds + steady_seconds:.0f} s)"
        if steady_seconds
        else "steady state"
    )
    for phase, label in (("opening", f"first {opening_seconds} s"), ("steady", steady_label)):
        figures = rush[phase]
        enroll, browse = figures["enroll"], figures["browse"]
        # Runs from before write admission have neither: every enroll was answered at its first attempt.
        to_answer = figures.get("enroll_to_answer", enroll)
        lines.append(
            f"| {label} | {enroll['requests']} | {measured_ms(enroll, 'p50_ms')} | {measured_ms(enroll, 'p99_ms')} "
            f"| {measured_ms(to_answer, 'p50_ms')} | {measured_ms(to_answer, 'p99_ms')} "
            f"| {figures.get('enrolls_refused', 0)} | {browse['requests']} "
            f"| {format_per_second(browse.get('requests_per_second'))} "
            f"| {measured_ms(browse, 'p50_ms')} | {measured_ms(browse, 'p99_ms')} "
            f"| {format_hit_rate((figures.get('server') or {}).get('cache_hit_rate'))} | {figures['server_errors']} |"
        )
    lines += probe_lines(rush, labels={"opening": f"first {opening_seconds} s", "steady": steady_label})
    if after := rush["steady"].get("after_refusals"):
        lines.append(
            f"\nThe last enroll refused busy was sent {after['refused_until_seconds']:g} s after the opening; the "
            f"steady state's browses after it (and after the first {opening_seconds} s): p50 / p99 "
            f"{measured_ms(after, 'p50_ms')} / {measured_ms(after, 'p99_ms')} ({after['requests']} requests)."
        )
    counted_from = (rush["steady"].get("server") or {}).get("counted_from_seconds")
    if counted_from is not None:
        # The snapshot waits for the workers' counts, and for /metrics behind the rush's queue.
        lines.append(f"\nThe steady state's server counters start {counted_from:g} s after the opening.")
    lines += cpu_lines(rush, labels={"opening": f"first {opening_seconds} s", "steady": steady_label})
    answers = ", ".join(f"{answer}: {count}" for answer, count in rush["enroll_answers"].items()) or "none"
    lines.append(
        f"\nEnroll answers: {answers}; {rush['enrolls_before_opening']} sent before the opening; "
        f"oversold courses: {rush['seat_check']['oversold']}."
    )
    return lines


def probe_lines(rush: dict[str, Any], *, labels: dict[str, str]) -> list[str]:
    """The same reads timed from outside locust, whose own loop waits for a core on a saturated
    machine (benchmarks/rush_probe.py); runs from before the probe have none."""
    probes = {phase: rush[phase].get("probe") or {} for phase in labels}
    if not any(figures.get("requests") for figures in probes.values()):
        return []
    niceness = next((figures["niceness"] for figures in probes.values() if figures.get("niceness") is not None), 0)
    phases = "; ".join(
        f"{label} {measured_ms(probes[phase], 'p50_ms')} / {measured_ms(probes[phase], 'p99_ms')} "
        f"({probes[phase].get('requests', 0)} requests)"
        for phase, label in labels.items()
    )
    return [
        "",
        "Browse p50 / p99 from outside locust (benchmarks/rush_probe.py: the semester's first course list every "
        f"100 ms over one kept-alive connection, from a process of its own at niceness {niceness}): {phases}.",
    ]


def cpu_lines(rush: dict[str, Any], *, labels: dict[str, str]) -> list[str]:
    """Where the machine's cores went in each phase, and what DynamoDB Local and the Celery workers
    spent per enroll answered: the rush's enrolls wait for CPU that the web server does not get."""
    phases = [phase for phase in labels if "cpu_percent_by_process" in (rush[phase].get("server") or {})]
    if not phases:
        return []
    lines = [
        "",
        "Where the cores went in each phase (percent of one core, between the server's snapshots; idle out of "
        "all the machine's cores), and DynamoDB Local's and the Celery workers' CPU over the enrolls answered "
        "(all of their work, the browsing's misses and the drops included):",
        "",
        "| phase | web server | DynamoDB Local | Celery workers | everything else (locust, Redis, the harness) "
        "| idle | enrolls answered a second | DynamoDB Local per enroll | workers per enroll |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        cpu = rush[phase]["server"]["cpu_percent_by_process"]
        seconds = rush[phase]["seconds"]
        enrolls_per_second = rush[phase]["enroll"]["requests"] / seconds if seconds else 0.0
        # Percent of a core is 10 ms of CPU a second.
        per_enroll = {
            name: format_ms(10 * cpu[name] / enrolls_per_second) if enrolls_per_second else "n/a"
            for name in ("dynamodb_local", "workers")
        }
        lines.append(
            f"| {labels[phase]} | {cpu['web']:.0f}% | {cpu['dynamodb_local']:.0f}% | {cpu['workers']:.0f}% "
            f"| {cpu['everything_else']:.0f}% | {cpu['idle']:.0f}% | {format_per_second(enrolls_per_second)} "
            f"| {per_enroll['dynamodb_local']} | {per_enroll['workers']} |"
        )
    return lines


def waitlist_lines(rush: dict[str, Any]) -> list[str]:
    """The waitlists in the rush: seats freed by drops during the run, and how the waitlists took them."""
    check = rush["seat_check"]
    if "promotions" not in check:
        return []
    drops = rush.get("drop_requests", 0)
    return [
        "",
        f"Waitlists: half the enrollers join a full course's waitlist; {drops} seats were dropped during the run "
        "(10% of those won). Promotion lag is how long a freed seat stood free before the waitlist took it "
        "(the promoted record's promoted_at minus the course's seat_freed_at; one run):",
        "",
        "| still waiting | promotions | skipped | lag p50 | lag p99 | lag max | oversold | out of order "
        "| unsettled courses |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {check['waitlisted']} | {check['promotions']} | {check['skipped']} "
        f"| {_lag(check['promotion_lag_p50_ms'])} | {_lag(check['promotion_lag_p99_ms'])} "
        f"| {_lag(check['promotion_lag_max_ms'])} | {check['oversold']} | {check['out_of_order']} "
        f"| {check['unsettled']} |",
    ]


def _lag(milliseconds: float | None) -> str:
    return "n/a" if milliseconds is None else format_ms(milliseconds)
