"""Courses in the admin: the list (admin_list.py: by semester and department or by instructor,
lookup by id or code, roster export and cache warming) and a course's add, change and delete pages
(admin_forms.py), all through the course selectors and services."""

from __future__ import annotations

from courseproject.adminsite.site import Section, admin_site
from courseproject.adminsite.urls import admin_path
from courses.admin_forms import course_add, course_change, course_delete
from courses.admin_list import course_list, warm_cache

admin_site.register_section(
    Section(
        app_label="courses",
        object_name="Course",
        name="Courses",
        changelist_url_name="courses_course_changelist",
        add_url_name="courses_course_add",
        urls=[
            admin_path("courses/course/", course_list, "courses_course_changelist"),
            admin_path("courses/course/add/", course_add, "courses_course_add"),
            admin_path("courses/course/warm-cache/", warm_cache, "courses_warm_cache"),
            admin_path("courses/course/<id:course_id>/change/", course_change, "courses_course_change"),
            admin_path("courses/course/<id:course_id>/delete/", course_delete, "courses_course_delete"),
        ],
    )
)
