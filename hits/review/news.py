"""Which HITs a review cycle looks at: only those with news, found cheaply.

Listing every active HIT's assignments every minute costs one platform call per HIT, though
few have news. Instead a cycle lists each account's HITs (MTurk: one ListHITs page per 100 HITs;
Prolific: one studies page) and compares each HIT's status and available / pending / completed
counts with what the review last saw (`HIT.platform_counts`). A submission, a return, an expiry
or a decision the platform took on its own changes them; only HITs whose counts differ have
their assignments listed. Counts are recorded only once the listing is stored, so a review that
fails or dies in between finds the same news again; crowdhr's own decisions move the recorded
counts as the platform will (`after_decisions`), so they are not mistaken for news.

Some HITs are looked at without any listing, as deciding needs none: those with undecided stored
work, a lease that ran out (its holder died), or an expiry that has passed. Hosted HITs (crowdhr's
own, `hits.hosted`) cost no platform call and are always looked at. A full sweep (`full=True`,
run by beat every hour) lists every HIT as before: the safety net for anything the counts miss.
Prolific's hooks make a study's review immediate (`experiments.hooks`); this is their safety net.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from hits.hosted import HOSTED_HIT_TYPE
from hits.models import HIT, Assignment
from platforms import PlatformError, PlatformHit, platform_for
from platforms.models import PlatformAccount
from platforms.registry import platform_type

logger = logging.getLogger("hits.review")


@dataclass(frozen=True)
class Look:
    """One HIT a cycle reviews: with a listing of its assignments first, or deciding only.

    `counts` is what the cheap check saw, recorded once the listing is stored ("" for none)."""

    hit_pk: int
    listing: bool
    counts: str = ""

    def as_task_argument(self) -> list[int | bool | str]:
        return [self.hit_pk, self.listing, self.counts]


def counts_of(hit: PlatformHit) -> str:
    """A HIT's progress as the platform reports it, in the form `HIT.platform_counts` keeps."""
    return f"{hit.status} {hit.available} {hit.pending} {hit.completed}"


def after_decisions(counts: str, decided: int, *, pending_includes_submitted: bool) -> str:
    """The counts the platform reports once crowdhr's `decided` decisions on the HIT land: each
    adds one completed (and, where pending counts submitted work, takes one from pending)."""
    if not counts or not decided:
        return counts
    status, available, pending, completed = counts.split()
    left = int(pending) - decided if pending_includes_submitted else int(pending)
    return f"{status} {available} {left} {int(completed) + decided}"


def seen_counts(hit: HIT, counts: str, *, decided: int) -> str:
    """What to record of the cheap check once the listing is stored (`HIT.platform_counts`): its
    counts moved by the decisions crowdhr took on the HIT since (`decided`), so those are not news
    next cycle."""
    kind = platform_type(hit.outsourcer.account.platform).client_class
    return after_decisions(counts, decided, pending_includes_submitted=kind.pending_includes_submitted)


def hits_to_look_at(*, full: bool = False) -> list[Look]:
    """Every HIT this cycle reviews, each once, in a stable order (see the module docstring)."""
    candidates = HIT.objects.to_review()
    if full:
        return [Look(pk, listing=True) for pk in candidates.order_by("pk").values_list("pk", flat=True)]
    looks = {look.hit_pk: look for look in _with_news(candidates)}
    for pk in _decidable(candidates):
        looks.setdefault(pk, Look(pk, listing=False))
    return [looks[pk] for pk in sorted(looks)]


def _with_news(candidates) -> list[Look]:
    rows = candidates.values_list("pk", "hit_id", "hit_type_id", "platform_counts", "outsourcer__account_id")
    by_account: dict[int, list[tuple[int, str, str]]] = {}
    looks = []
    for pk, hit_id, hit_type_id, seen, account_id in rows:
        if hit_type_id == HOSTED_HIT_TYPE:
            looks.append(Look(pk, listing=True))  # crowdhr's own: counting it asks no platform
        else:
            by_account.setdefault(account_id, []).append((pk, hit_id, seen))
    for account in PlatformAccount.objects.filter(pk__in=by_account):
        looks += _changed_on(account, by_account[account.pk])
    return looks


def _changed_on(account: PlatformAccount, hits: list[tuple[int, str, str]]) -> list[Look]:
    """The account's HITs whose counts differ from what the review last saw (all, if the
    platform cannot list them now; a HIT missing from the list is listed on its own)."""
    try:
        listed = {hit.hit_id: counts_of(hit) for hit in platform_for(account).list_hits()}
    except PlatformError as error:
        logger.warning("listing HITs failed", extra={"account": account.pk, "error": str(error)})
        return [Look(pk, listing=True) for pk, _, _ in hits]
    return [
        Look(pk, listing=True, counts=listed.get(hit_id, ""))
        for pk, hit_id, seen in hits
        if not seen or listed.get(hit_id) != seen
    ]


def _decidable(candidates) -> set[int]:
    """HITs to decide from what is stored: undecided work, a lease that ran out, a passed expiry."""
    now = timezone.now()
    stored = Assignment.objects.undecided().filter(problem="", hit__in=candidates).values_list("hit_id")
    due = candidates.filter(
        Q(pk__in=stored) | Q(review_lease_until__lt=now) | Q(expiration__lte=now)
    ).values_list("pk", flat=True)
    return set(due)
