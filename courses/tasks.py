"""Periodic cache warming on beat."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from courses.warming import hot_semesters, warm_semesters

logger = logging.getLogger(__name__)


@shared_task(name="courses.warm_hot_semesters", ignore_result=True, expires=240)
def warm_hot_semesters() -> int:
    """Keep the semesters students are browsing warm; returns how many keys were written."""
    semesters = hot_semesters(settings.CACHE_WARM_SEMESTERS)
    if not semesters or not settings.CACHE_ENABLED:
        return 0
    report = warm_semesters(semesters, max_pages=settings.CACHE_WARM_MAX_PAGES)
    logger.info("Warmed %d keys for semesters %s in %.1f s", report.keys, semesters, report.seconds)
    return report.keys


@shared_task(name="courses.warm_semester", ignore_result=True, expires=3600)
def warm_semester(semester_id: int) -> int:
    """Warm one semester now (the admin's action); returns how many keys were written."""
    if not settings.CACHE_ENABLED:
        return 0
    report = warm_semesters([semester_id], max_pages=settings.CACHE_WARM_MAX_PAGES)
    logger.info("Warmed %d keys for semester %s in %.1f s", report.keys, semester_id, report.seconds)
    return report.keys
