"""The AWS services DynamoDB Local lacks, through moto: the CloudWatch metrics push and the SES email backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from django.conf import settings
from django.core import mail
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from courseproject.observability import cloudwatch as cloudwatch_push
from courseproject.observability.tasks import push_metrics
from enrollments.tasks import sweep_waitlists


class TestCloudWatchPush:
    pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="counters live in the cache's Redis")

    def test_cache_and_latency_figures_arrive_as_custom_metrics(self, student, make_course, settings):
        settings.CLOUDWATCH_METRICS_ENABLED = True
        course = make_course()
        with mock_aws():
            cloudwatch_push._cloudwatch = None
            push_metrics.run()  # sets the baseline: everything before this test
            started = datetime.now(UTC) - timedelta(minutes=5)
            for _ in range(5):
                assert student.client.get(f"/api/courses/{course.course_id}").status_code == 200
            assert push_metrics.run() >= 5
            cloudwatch = boto3.client("cloudwatch", region_name=settings.AWS_REGION)
            names = {
                metric["MetricName"] for metric in cloudwatch.list_metrics(Namespace="CourseRegistration")["Metrics"]
            }
            assert {"CacheHitRate", "CacheHits", "CacheMisses", "Requests", "RequestLatency"} <= names

            def total(name: str) -> float:
                statistics = cloudwatch.get_metric_statistics(
                    Namespace="CourseRegistration",
                    MetricName=name,
                    Statistics=["Sum", "SampleCount"],
                    Dimensions=[{"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT}],
                    StartTime=started,
                    EndTime=datetime.now(UTC) + timedelta(minutes=5),
                    Period=3600,
                )["Datapoints"]
                return sum(point["Sum"] for point in statistics)

            assert total("Requests") == 5
            assert total("CacheHits") >= 5  # each detail read: the course and its seats
            cloudwatch_push._cloudwatch = None

    def test_the_waitlist_sweep_sends_the_age_of_the_oldest_free_seat_someone_waits_for(self, settings):
        """What the waitlist-promotion-lag alarm watches (infra/stack.yaml): one datum per sweep."""
        settings.CLOUDWATCH_METRICS_ENABLED = True
        with mock_aws():
            cloudwatch_push._cloudwatch = None
            sweep_waitlists.run()
            cloudwatch = boto3.client("cloudwatch", region_name=settings.AWS_REGION)
            [point] = cloudwatch.get_metric_statistics(
                Namespace="CourseRegistration",
                MetricName="WaitlistStalledSeatAge",
                Statistics=["Maximum", "SampleCount"],
                Dimensions=[{"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT}],
                StartTime=datetime.now(UTC) - timedelta(minutes=5),
                EndTime=datetime.now(UTC) + timedelta(minutes=5),
                Period=3600,
            )["Datapoints"]
            assert (point["SampleCount"], point["Unit"]) == (1.0, "Seconds")
            assert point["Maximum"] >= 0
            cloudwatch_push._cloudwatch = None

    def test_nothing_is_sent_when_disabled(self, settings):
        settings.CLOUDWATCH_METRICS_ENABLED = False
        assert push_metrics.run() == 0


class TestSESBackend:
    def test_sends_through_the_ses_api(self, settings):
        settings.EMAIL_BACKEND = "courseproject.background.email.SESEmailBackend"
        with mock_aws():
            ses = boto3.client("ses", region_name=settings.AWS_SES_REGION)
            ses.verify_email_identity(EmailAddress="registration@example.edu")
            sent = mail.EmailMessage("Hello", "Body", "registration@example.edu", ["student@example.edu"]).send()
            assert sent == 1
            [message] = ses_backends[DEFAULT_ACCOUNT_ID][settings.AWS_SES_REGION].sent_messages
            assert "student@example.edu" in message.destinations
            assert "Subject: Hello" in str(message.raw_data)
