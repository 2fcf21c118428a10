"""The registration rush's lines of the benchmark report: its first seconds apart from the steady
state, and how the waitlists took the seats dropped during it; with the latency formats the whole
report shares."""

from __future__ import annotations

from typing import Any


def format_ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def measured_ms(figures: dict[str, Any] | None, key: str) -> str:
    """A latency, or n/a where nothing was measured (no such endpoint, no request in a phase)."""
    return format_ms(figures[key]) if figures and figures.get("requests", 1) else "n/a"


def rush_phase_lines(rush: dict[str, Any]) -> list[str]:
    """The rush's first seconds after the opening, apart from the steady state after them."""
    if "opening" not in rush:
        return []
    lines = [
        "",
        f"Registration opened at {rush['opens_at']}; the first {rush['opening_seconds']} s after it on their own "
        "(each request timed by the locustfile; nearest-rank percentiles):",
        "",
        "| phase | enrolls | enroll p50 | enroll p99 | browse requests | browse p50 | browse p99 | 5xx |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase, label in (("opening", f"first {rush['opening_seconds']} s"), ("steady", "after them")):
        figures = rush[phase]
        enroll, browse = figures["enroll"], figures["browse"]
        lines.append(
            f"| {label} | {enroll['requests']} | {measured_ms(enroll, 'p50_ms')} | {measured_ms(enroll, 'p99_ms')} "
            f"| {browse['requests']} | {measured_ms(browse, 'p50_ms')} | {measured_ms(browse, 'p99_ms')} "
            f"| {figures['server_errors']} |"
        )
    answers = ", ".join(f"{answer}: {count}" for answer, count in rush["enroll_answers"].items()) or "none"
    lines.append(
        f"\nEnroll answers: {answers}; {rush['enrolls_before_opening']} sent before the opening; "
        f"oversold courses: {rush['seat_check']['oversold']}."
    )
    return lines + waitlist_lines(rush)


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
        "(the promoted record's promoted_at minus the course's seat_freed_at):",
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
