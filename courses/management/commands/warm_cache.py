"""manage.py warm_cache [--semester N ...]: load semesters' course lists and courses into Redis now."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from courses.warming import hot_semesters, warm_semesters


class Command(BaseCommand):
    help = "Warm the cache for semesters (default: CACHE_WARM_SEMESTERS and those browsed in the last hour)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--semester", type=int, action="append", dest="semesters", help="Repeat for several.")
        parser.add_argument("--max-pages", type=int, default=settings.CACHE_WARM_MAX_PAGES)
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self, *args: Any, semesters: list[int] | None, max_pages: int, no_progress: bool, **options: Any
    ) -> None:
        if not settings.CACHE_ENABLED:
            raise CommandError("CACHE_ENABLED is false: there is no cache to warm.")
        semesters = semesters or hot_semesters(settings.CACHE_WARM_SEMESTERS)
        if not semesters:
            raise CommandError("No hot semesters are known yet; name them with --semester.")
        with tqdm(unit="page", desc="warm_cache", disable=no_progress) as progress:
            report = warm_semesters(semesters, max_pages=max_pages, on_page=lambda _: progress.update(1))
        self.stdout.write(
            self.style.SUCCESS(
                f"Warmed {report.keys} keys ({report.pages} list pages, {report.entities} course entries) "
                f"for semesters {', '.join(map(str, semesters))} in {report.seconds:.2f} s."
            )
        )
