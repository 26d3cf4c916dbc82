"""Review: sync what the platform reports, decide, and the cycle that runs both.

- `hits.review.cycle`: the cycle (leases, shards, threads, the report), run by beat every minute;
- `hits.review.news`: which HITs a cycle looks at: only those whose counts changed on the platform;
- `hits.review.sync`: store every reported assignment before anything is decided;
- `hits.review.decide`: decide by completion or consensus, flag what a person must decide.

Decisions are exactly-once: a HIT is leased to one review worker at a time, every assignment
decision is claimed with a conditional update, and money goes through `hits.payments`.
"""
