"""An operator's bad day, bounded to about a minute: the production round of test_production_round.py
(web serving the local MTurk, worker and beat, on PostgreSQL and Redis) with three more review
processes that are killed with SIGKILL every couple of seconds and started again, while the local
MTurk throttles 10% of the calls, answers 5xx to 10% and loses the answer of 5% after committing, each call taking 150 ms.
Each reviewer also pays every approved assignment a bonus (once per assignment, by key), so bonuses
are claimed, paid and killed mid-call too. Then the faults stop and the reviewers finish; every
owed approval and bonus is paid exactly once and no assignment is decided twice, by the ledger and
by the local MTurk's own records (its assignments and bonus payments, in the same database)."""

from __future__ import annotations

import random
import re
import shlex
import signal
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from crowdhr.tests.processes import RunningProcess, manage, start, wait_until
from crowdhr.tests.test_processes import ProductionProcesses
from crowdhr.tests.test_production_round import SETUP, query

pytestmark = pytest.mark.slow

CAPITALS = {
    "France": "Paris",
    "Italy": "Rome",
    "Spain": "Madrid",
    "Peru": "Lima",
    "Chile": "Santiago",
    "Kenya": "Nairobi",
    "Japan": "Tokyo",
    "Egypt": "Cairo",
    "Norway": "Oslo",
    "Cuba": "Havana",
    "Ghana": "Accra",
    "Nepal": "Kathmandu",
    "Poland": "Warsaw",
    "Greece": "Athens",
    "Canada": "Ottawa",
    "Mexico": "Mexico City",
    "Sweden": "Stockholm",
    "Austria": "Vienna",
    "Portugal": "Lisbon",
    "Ireland": "Dublin",
}
REVIEWERS = 3
CHAOS_SECONDS = 20
KILL_EVERY = 2.0
BONUS = Decimal("0.05")

PUBLISH = (
    SETUP.replace('b"text\\nFrance\\nItaly\\n"', repr(("text\n" + "\n".join(CAPITALS) + "\n").encode()))
    + """
from experiments import services
services.experiment_publish(experiment=experiment, by=None)
"""
)

WORK = f"""
from hits.models import HIT
from mturk_emulator import workers
answers = {CAPITALS!r}
for hit in HIT.objects.select_related("outsourcer"):
    for worker in ("AWORKERONE", "AWORKERTWO"):
        workers.work(hit.hit_id, worker, {{"answer": answers[hit.outsourcer.inputs["text"]]}})
print("submitted", HIT.objects.count())
"""

FAULTS = """
from mturk_emulator import faults
faults.set_faults(throttle=0.10, unavailable=0.05, fault=0.05, lose_answer=0.05, latency_ms=150, seed={seed})
"""

assert "Spain" in PUBLISH, "the production round's items moved: update the replacement above"

NO_FAULTS = "from mturk_emulator import faults; faults.clear_faults()"

# A review process: review cycles back to back, and a bonus owed to every approved assignment.
REVIEWER = f"""
import time
from decimal import Decimal
from hits import payments
from hits.models import Assignment
from hits.review.cycle import review_active_hits
while True:
    review_active_hits()
    for assignment in Assignment.objects.filter(decision="approved").select_related("hit__outsourcer__account"):
        payments.pay_bonus(
            assignment=assignment, amount=Decimal("{BONUS}"), reason="Thank you for a careful answer.",
            key="chaos:" + assignment.assignment_id, triggered_by="chaos",
        )
    time.sleep(0.2)
"""


def reviewer(number: int, environment: dict[str, str], log_dir: Path) -> RunningProcess:
    command = shlex.join([sys.executable, "manage.py", "shell", "-c", REVIEWER])
    return start(f"reviewer-{number}", command, environment=environment, log_dir=log_dir)


def shell(code: str, environment: dict[str, str]) -> str:
    done = manage("shell", "-c", code, environment=environment)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def settled(processes: ProductionProcesses, assignments: int) -> bool:
    ledger = query(processes, "SELECT kind, status, count(*) FROM hits_payment GROUP BY kind, status")
    counts = {(kind, status): count for kind, status, count in ledger}
    return (
        counts.get(("approval", "done"), 0) == assignments
        and counts.get(("bonus", "done"), 0) >= assignments
        and all(status == "done" for _, status in counts)
    )


def test_reviewers_killed_every_few_seconds_under_platform_faults_pay_everything_exactly_once(
    production_processes: ProductionProcesses, tmp_path: Path
):
    environment = production_processes.environment
    shell(PUBLISH, environment)
    hits = int(re.search(r"submitted (\d+)", shell(WORK, environment)).group(1))
    assignments = 2 * hits
    assert hits == len(CAPITALS)
    seed = random.randrange(1_000_000)
    print(f"fault seed {seed}")
    shell(FAULTS.format(seed=seed), environment)

    chooser = random.Random(seed)
    reviewers = [reviewer(number, environment, tmp_path) for number in range(REVIEWERS)]
    kills = 0
    try:
        deadline = time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < deadline:
            time.sleep(KILL_EVERY * chooser.uniform(0.5, 1.5))
            number = chooser.randrange(REVIEWERS)
            reviewers[number].popen.send_signal(signal.SIGKILL)
            reviewers[number].stop(timeout=10)
            kills += 1
            reviewers[number] = reviewer(number, environment, tmp_path)
        shell(NO_FAULTS, environment)
        wait_until(
            lambda: settled(production_processes, assignments),
            what="the reviewers to finish every approval and bonus once the faults stop",
            timeout=60,
            watching=[*reviewers, production_processes.processes["web"]],
        )
    finally:
        for process in reviewers:
            process.stop(timeout=5)

    # The ledger: one decision per assignment, approved and done; one bonus per assignment.
    decisions = query(
        production_processes,
        "SELECT a.assignment_id, a.decision, count(p.id) FROM hits_assignment a "
        "LEFT JOIN hits_payment p ON p.assignment_id = a.id AND p.kind IN ('approval', 'rejection') "
        "GROUP BY a.assignment_id, a.decision",
    )
    assert len(decisions) == assignments
    assert {(decision, count) for _, decision, count in decisions} == {("approved", 1)}
    own_bonuses = query(
        production_processes,
        "SELECT a.assignment_id, count(*) FROM hits_payment p JOIN hits_assignment a ON a.id = p.assignment_id "
        "WHERE p.kind = 'bonus' AND p.key LIKE 'bonus:chaos:%' GROUP BY a.assignment_id",
    )
    assert len(own_bonuses) == assignments and {count for _, count in own_bonuses} == {1}

    # The local MTurk's own records: every assignment approved; the bonuses it paid are exactly the
    # ledger's bonus rows (the chaos bonus and any achievement bonus), none twice.
    on_platform = query(
        production_processes, "SELECT status, count(*) FROM mturk_emulator_assignment GROUP BY status"
    )
    assert on_platform == [("Approved", assignments)]
    paid = Counter(
        query(
            production_processes,
            "SELECT a.assignment_id, b.worker_id, b.amount, b.reason FROM mturk_emulator_bonuspayment b "
            "JOIN mturk_emulator_assignment a ON a.id = b.assignment_id",
        )
    )
    owed = Counter(
        query(
            production_processes,
            "SELECT a.assignment_id, w.worker_id, p.amount, p.reason FROM hits_payment p "
            "JOIN hits_assignment a ON a.id = p.assignment_id JOIN workers_worker w ON w.id = p.worker_id "
            "WHERE p.kind = 'bonus' AND p.status = 'done'",
        )
    )
    assert paid == owed
    assert max(paid.values()) == 1

    # Every decision is attributed to who made it: the review, never relabelled as the platform's.
    deciders = query(production_processes, "SELECT decided_by, count(*) FROM hits_assignment GROUP BY 1")
    assert {decider for decider, _ in deciders} == {"consensus"}, deciders
    assert query(production_processes, "SELECT count(*) FROM hits_assignment WHERE problem <> ''") == [(0,)]

    # Every score on the local MTurk equals crowdhr's once the last sync has run.
    shell("from workers.scoring import sync_qualifications; sync_qualifications(limit=10**6)", environment)
    ours = set(
        query(
            production_processes,
            "SELECT t.platform_id, w.worker_id, q.value FROM workers_workerqualification q "
            "JOIN workers_qualificationtype t ON t.account_id = q.account_id AND t.qualification = q.qualification "
            "JOIN workers_worker w ON w.id = q.worker_id",
        )
    )
    theirs = set(
        query(
            production_processes,
            "SELECT t.qualification_type_id, q.worker_id, q.integer_value FROM mturk_emulator_qualification q "
            "JOIN mturk_emulator_qualificationtype t ON t.id = q.qualification_type_id "
            "WHERE q.status = 'Granted'",
        )
    )
    assert ours and ours <= theirs, sorted(ours - theirs)
    retried = query(production_processes, "SELECT count(*) FROM hits_payment WHERE attempts > 1")[0][0]
    print(
        f"{kills} SIGKILLs, {sum(paid.values())} bonuses, {assignments} approvals, {retried} ledger rows retried"
    )
    assert kills >= CHAOS_SECONDS // (2 * KILL_EVERY)
