"""The options that describe the demo dataset, shared by seed_demo (which writes it) and
demo_examples (which names the ids of its worked examples), so both always describe the same data."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import CommandParser

from demo.dataset import DemoDataset, build_demo_dataset

DEFAULT_SEED = 42


def count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def positive_count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from None


def add_dataset_arguments(parser: CommandParser) -> None:
    parser.add_argument("--courses", type=count, default=300)
    parser.add_argument("--students", type=count, default=60)
    parser.add_argument("--enrollments", type=count, default=400)
    parser.add_argument(
        "--instructors", type=positive_count, default=None, help="Default: one per 30 courses, at least 5."
    )
    parser.add_argument("--semesters", type=positive_count, default=3)
    parser.add_argument("--departments", type=positive_count, default=20)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--today", type=day, default=None, help="The day the semesters and windows follow (default: today, UTC)."
    )
    parser.add_argument(
        "--first-semester", type=int, default=None, help="Fixed semesters from this id instead of the calendar's."
    )
    parser.add_argument(
        "--all-open", action="store_true", help="Every semester's registration open now (for the benchmark)."
    )


def instructor_count(options: dict[str, Any]) -> int:
    return options["instructors"] or max(5, options["courses"] // 30)


def dataset_from_options(options: dict[str, Any]) -> DemoDataset:
    return build_demo_dataset(
        courses=options["courses"],
        students=options["students"],
        enrollments=options["enrollments"],
        instructors=instructor_count(options),
        semesters=options["semesters"],
        departments=options["departments"],
        seed=options["seed"],
        today=options["today"],
        first_semester=options["first_semester"],
        all_open=options["all_open"],
    )
