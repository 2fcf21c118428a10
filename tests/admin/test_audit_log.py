"""The audit log in the admin: by entity, by actor, one record, and the index's recent actions."""

from __future__ import annotations

from audit.models import AuditRecord
from tests.admin.helpers import AUDIT, COURSES, messages_of, text


class TestAuditLog:
    def test_by_entity_by_actor_and_detail(self, admin_client, admin, make_course):
        course = make_course(title="Audited")
        form = admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial | {
            "title": "Audited Twice"
        }
        admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        history = admin_client.get(AUDIT, {"entity": f"course:{course.course_id}"})
        assert text(history).count("Audited") >= 2
        assert "title: &#x27;Audited&#x27; → &#x27;Audited Twice&#x27;" in text(history)
        mine = admin_client.get(AUDIT)
        assert "Audited Twice" in text(mine)
        by_email = admin_client.get(AUDIT, {"actor": admin.user.email})
        assert "Audited Twice" in text(by_email)
        record = next(iter(AuditRecord.by_actor.query(admin.user_id, scan_index_forward=False)))
        detail = admin_client.get(f"{AUDIT}{record.audit_id}/")
        assert detail.status_code == 200
        assert "&quot;title&quot;: &quot;Audited Twice&quot;" in text(detail)

    def test_the_index_shows_my_recent_actions(self, admin_client, make_course):
        course = make_course(title="Recently Touched")
        form = admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial | {"capacity": 31}
        admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        assert "Recently Touched" in text(admin_client.get("/admin/"))

    def test_bad_entity_filters_are_explained(self, admin_client):
        response = admin_client.get(AUDIT, {"entity": "planet:earth"})
        assert any("Entity must be" in message for message in messages_of(response))

    def test_is_read_only(self, admin_client):
        assert admin_client.post(AUDIT, {"action": "delete"}).status_code == 405
