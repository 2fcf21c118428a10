"""The admin in a real headless Chromium (Debian's, driven by Selenium through chromedriver) against
the web server and a Celery worker: sign in, open every list, edit a course, and see the API serve the new
values at once. Screenshots of every page visited are kept in .run/test-artifacts/admin-browser/."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from accounts.models import Role
from devstack.services import RUN_DIR
from enrollments import services as enrollment_services
from tests.conftest import TEST_PASSWORD, access_token, unique_semester

pytestmark = pytest.mark.e2e

SCREENSHOTS = RUN_DIR / "test-artifacts" / "admin-browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("chromium and chromedriver are needed: `make test` installs them (devstack/install-chromium.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.implicitly_wait(5)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    try:
        yield driver
    finally:
        driver.quit()


class Visit:
    """Opens pages and keeps a numbered screenshot of each."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver, self.base_url, self.count = driver, base_url, 0

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def snap(self, name: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.count:02d}-{name}.png"
        assert self.driver.save_screenshot(str(path))
        return path

    def sign_in(self, email: str) -> None:
        self.open("/admin/")
        assert "/admin/login/" in self.driver.current_url
        self.driver.find_element(By.NAME, "username").send_keys(email)
        self.driver.find_element(By.NAME, "password").send_keys(TEST_PASSWORD)
        self.snap("login")
        self.driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        assert self.driver.current_url.rstrip("/").endswith("/admin")
        assert "Course registration admin" in self.text()
        assert self.driver.find_element(By.CSS_SELECTOR, "link[href$='admin/css/base.css']")  # the stock styles
        self.snap("index")

    def text(self) -> str:
        """The page's text; after a click that navigates, the old page's body may go stale under us."""
        for _ in range(50):
            try:
                return self.driver.find_element(By.TAG_NAME, "body").text
            except StaleElementReferenceException:
                time.sleep(0.1)
        return self.driver.find_element(By.TAG_NAME, "body").text


def test_an_admin_edits_a_course_in_the_browser_and_the_api_serves_it(
    browser, server_url, celery_worker, make_person, make_course
):
    admin = make_person(Role.ADMIN, name="Browser Admin")
    student = make_person(Role.STUDENT, name="Browser Student")
    semester = unique_semester()
    course = make_course(semester_id=semester, title="Before the Browser", capacity=30, course_code="BR 101")
    enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {access_token(student.user)}"
    assert api.get(f"{server_url}/api/courses/{course.course_id}").json()["title"] == "Before the Browser"

    visit = Visit(browser, server_url)
    visit.sign_in(admin.user.email)

    visit.open(f"/admin/courses/course/?semester={semester}")
    assert "Before the Browser" in visit.text()
    visit.snap("courses")
    visit.open(f"/admin/enrollments/enrollment/?course={course.course_id}")
    assert student.user.email in visit.text()
    visit.snap("enrollments")
    visit.open("/admin/accounts/user/?role=admin")
    visit.snap("users")
    visit.open(f"/admin/semesters/semester/?q={semester}")
    assert "Test semester" in visit.text()
    visit.snap("semesters")
    visit.open("/admin/audit/auditrecord/")
    visit.snap("audit-log")

    visit.open(f"/admin/courses/course/?semester={semester}")
    browser.find_element(By.LINK_TEXT, "BR 101").click()
    title, capacity = browser.find_element(By.NAME, "title"), browser.find_element(By.NAME, "capacity")
    title.clear()
    title.send_keys("After the Browser")
    capacity.clear()
    capacity.send_keys("42")
    visit.snap("course-change")
    browser.find_element(By.NAME, "_save").click()
    assert "was changed successfully" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    visit.snap("course-saved")

    detail = api.get(f"{server_url}/api/courses/{course.course_id}").json()
    assert (detail["title"], detail["capacity"], detail["enrolled_count"]) == ("After the Browser", 42, 1)
    listed = api.get(f"{server_url}/api/courses", params={"semester_id": semester}).json()["results"]
    assert [(item["title"], item["seats_available"]) for item in listed] == [("After the Browser", 41)]

    # The worker writes the audit record; the course's history shows the edit within seconds.
    deadline = time.monotonic() + 20
    while True:
        visit.open(f"/admin/audit/auditrecord/?entity=course:{course.course_id}")
        if "After the Browser" in visit.text() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "updated" in visit.text()
    assert "After the Browser" in visit.text()
    visit.snap("course-history")
    assert len(list(SCREENSHOTS.glob("*.png"))) == visit.count
