"""The AWS services DynamoDB Local lacks, through moto: the CloudWatch metrics push (with the queue
lengths it reads from the real test broker) and the SES email backend."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from django.conf import settings
from django.core import mail
from kombu import Queue
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from courseproject.celery import app as celery_app
from courseproject.observability import cloudwatch as cloudwatch_push
from courseproject.observability.queues import broker_queue_lengths, celery_queue_names
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


class TestQueueLengthPush:
    """What the workers scale on and the queue-backlog alarms watch (infra/compute.yaml)."""

    @pytest.fixture
    def test_queues(self, settings):
        """Two queues of this test's own, routed like the waitlist's, on the real test broker: the
        first with three tasks waiting, the second empty. No worker consumes them."""
        waiting, empty = f"test-waiting-{uuid.uuid4().hex[:8]}", f"test-empty-{uuid.uuid4().hex[:8]}"
        settings.CELERY_TASK_ROUTES = {
            **settings.CELERY_TASK_ROUTES,
            "tests.waiting": {"queue": waiting},
            "tests.empty": {"queue": empty},
        }
        with celery_app.producer_or_acquire() as producer:
            for _ in range(3):
                producer.publish({"task": "tests.waiting"}, exchange="", routing_key=waiting, declare=[Queue(waiting)])
        yield waiting, empty
        with celery_app.connection_for_write() as connection:
            connection.default_channel.client.delete(waiting)

    def test_the_metrics_push_runs_from_a_queue_of_its_own(self):
        assert celery_app.amqp.router.route({}, "courseproject.push_metrics")["queue"].name == settings.METRICS_QUEUE
        assert settings.METRICS_QUEUE not in {celery_app.conf.task_default_queue, settings.WAITLIST_QUEUE}

    def test_every_queue_is_measured_on_the_broker(self, test_queues):
        waiting, empty = test_queues
        assert {"celery", settings.WAITLIST_QUEUE, settings.METRICS_QUEUE, waiting, empty} == set(celery_queue_names())
        lengths = broker_queue_lengths()
        assert (lengths[waiting], lengths[empty]) == (3, 0)

    def test_queue_lengths_arrive_as_a_metric_per_queue(self, settings, test_queues):
        waiting, empty = test_queues
        settings.CLOUDWATCH_METRICS_ENABLED = True
        with mock_aws():
            cloudwatch_push._cloudwatch = None
            push_metrics.run()
            cloudwatch = boto3.client("cloudwatch", region_name=settings.AWS_REGION)

            def length(queue: str) -> float:
                [point] = cloudwatch.get_metric_statistics(
                    Namespace="CourseRegistration",
                    MetricName="QueueLength",
                    Statistics=["Maximum"],
                    Dimensions=[
                        {"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT},
                        {"Name": "Queue", "Value": queue},
                    ],
                    StartTime=datetime.now(UTC) - timedelta(minutes=5),
                    EndTime=datetime.now(UTC) + timedelta(minutes=5),
                    Period=3600,
                )["Datapoints"]
                return point["Maximum"]

            assert (length(waiting), length(empty)) == (3.0, 0.0)
            cloudwatch_push._cloudwatch = None

    def test_an_unreachable_broker_skips_the_figure_and_the_push_goes_on(self, settings, monkeypatch):
        settings.CLOUDWATCH_METRICS_ENABLED = True
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed.getsockname()[1]}/0")
        assert broker_queue_lengths() is None
        with mock_aws():
            cloudwatch_push._cloudwatch = None
            push_metrics.run()  # the cache figures still go
            cloudwatch = boto3.client("cloudwatch", region_name=settings.AWS_REGION)
            names = {
                metric["MetricName"] for metric in cloudwatch.list_metrics(Namespace="CourseRegistration")["Metrics"]
            }
            assert "QueueLength" not in names
            cloudwatch_push._cloudwatch = None


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
