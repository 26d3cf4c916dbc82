"""One whole round through the running Procfile processes, as on Heroku: a researcher publishes a
batch from the admin over HTTP, simulated workers submit, beat triggers the review, the worker
approves and pays, and the admin shows the result. Then everything stops cleanly."""

from __future__ import annotations

import re
from html import unescape

import psycopg2
import requests

from crowdhr.tests.processes import manage, wait_until
from crowdhr.tests.test_processes import HOST, ProductionProcesses

PASSWORD = "a-long-researcher-password-1"

SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from crowdhr.researchers import researchers_group
from experiments.models import Experiment
from platforms.models import PlatformAccount
user = get_user_model().objects.create_user("grace", password="{password}", is_staff=True, email="")
user.groups.add(researchers_group())
account = PlatformAccount.objects.create(
    owner=user, name="Grace's lab", environment="emulator", access_key_id="AKIAGRACE", secret_access_key="grace-secret"
)
from mturk_emulator.testing import register_requester
register_requester("AKIAGRACE", "grace-secret")
experiment = Experiment.objects.create(
    owner=user, account=account, name="Capitals", kind="batch", task_type="free_text",
    task_config={"question": "What is the capital?"}, title="Name the capital",
    description="Type the capital of the country.", reward=Decimal("0.10"),
    assignments_required=2, agreements_required=2,
)
experiment.items_file.save("capitals.csv", ContentFile(b"text\\nFrance\\nItaly\\n"))
print("experiment", experiment.pk)
""".replace("{password}", PASSWORD)

WORK = """
from hits.models import HIT
from mturk_emulator import workers
answers = {"France": "Paris", "Italy": "Rome"}
for hit in HIT.objects.select_related("outsourcer"):
    for worker in ("AWORKERONE", "AWORKERTWO"):
        workers.work(hit.hit_id, worker, {"answer": answers[hit.outsourcer.inputs["text"]]})
print("submitted")
"""

REVIEW_OVERDUE = """
from datetime import timedelta
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
task = PeriodicTask.objects.get(name="review-active-hits")
task.last_run_at = timezone.now() - timedelta(hours=1)
task.save()
"""


class Browser:
    """A researcher's browser talking to web behind Heroku's HTTPS router."""

    def __init__(self, processes: ProductionProcesses) -> None:
        self.processes = processes
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | list | None = None) -> requests.Response:
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}{path}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        response = requests.request(
            method,
            self.processes.base_url + path,
            data=data,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def csrf(self, html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def log_in(self, username: str, password: str) -> None:
        page = self.request("GET", "/admin/login/")
        answer = self.request(
            "POST",
            "/admin/login/",
            {"csrfmiddlewaretoken": self.csrf(page.text), "username": username, "password": password},
        )
        assert answer.status_code == 302, answer.text[:2000]


def hidden_fields(html: str) -> list[tuple[str, str]]:
    form = html[html.index("<form") : html.rindex("</form>")]
    return [
        (unescape(name), unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    ]


def query(processes: ProductionProcesses, sql: str) -> list[tuple]:
    with psycopg2.connect(processes.environment["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_a_batch_published_from_the_admin_is_reviewed_and_paid_by_the_running_processes(
    production_processes: ProductionProcesses,
):
    environment = production_processes.environment
    setup = manage("shell", "-c", SETUP, environment=environment)
    assert setup.returncode == 0, setup.stderr
    experiment_pk = re.search(r"experiment (\d+)", setup.stdout).group(1)

    browser = Browser(production_processes)
    browser.log_in("grace", PASSWORD)
    changelist = "/admin/experiments/experiment/"
    page = browser.request("GET", changelist)
    assert page.status_code == 200 and "Capitals" in page.text
    action = {
        "csrfmiddlewaretoken": browser.csrf(page.text),
        "action": "publish",
        "_selected_action": experiment_pk,
    }
    confirmation = browser.request("POST", changelist, action)
    assert confirmation.status_code == 200 and "Publish" in confirmation.text
    done = browser.request("POST", changelist, [*hidden_fields(confirmation.text), ("confirmed", "yes")])
    assert done.status_code == 302, done.text[:3000]
    published = browser.request("GET", changelist)
    assert "1 experiment(s) published" in published.text, re.findall(
        r'<li class="(?:error|warning)">(.*?)</li>', published.text, re.DOTALL
    )
    assert query(production_processes, "SELECT count(*) FROM hits_hit WHERE status = 'live'") == [(2,)]

    worked = manage("shell", "-c", WORK, environment=environment)
    assert worked.returncode == 0, worked.stderr
    overdue = manage("shell", "-c", REVIEW_OVERDUE, environment=environment)
    assert overdue.returncode == 0, overdue.stderr

    def all_paid() -> bool:
        rows = query(production_processes, "SELECT kind, status FROM hits_payment WHERE kind = 'approval'")
        return len(rows) == 4 and {status for _, status in rows} == {"done"}

    wait_until(
        all_paid,
        what="beat to trigger the review and the worker to approve and pay four assignments",
        timeout=90,
        watching=production_processes.processes.values(),
    )
    assert query(production_processes, "SELECT answer FROM hits_outsourcer ORDER BY id") == [
        ({"answer": "Paris"},),
        ({"answer": "Rome"},),
    ]
    assignments = browser.request("GET", "/admin/hits/assignment/?decision__exact=approved")
    assert assignments.status_code == 200
    assert assignments.text.count("AWORKERONE") >= 2 and "AWORKERTWO" in assignments.text

    exit_codes = production_processes.stop()
    assert exit_codes == {"web": 0, "worker": 0, "beat": 0}
