"""crowdhr's local Amazon Mechanical Turk, mounted at /emulator/ in development and tests.

- Requester accounts: opened explicitly with `manage.py emulator_requester --access-key-id K --secret S
  [--live]` or `mturk_emulator.accounts.create_requester` (tests: `mturk_emulator.testing`). A sandbox
  account keeps $10,000.00 and never spends, as on MTurk's sandbox; a live one spends.
- Requester API: `boto3.client("mturk", endpoint_url="http://HOST/emulator/mturk/", ...)` signed with a
  registered key and its secret (SigV4, checked as AWS checks it; unknown keys are refused).
- Question XML is checked against MTurk's schemas: an ExternalURL must be https:// (plain http on
  localhost only with the setting MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST).
- Worker marketplace: http://HOST/emulator/ (choose a worker, preview, accept, work, return, submit).
- Scripted workers: `mturk_emulator.workers` (`accept`, `submit`, `return_assignment`, `work`) and
  `manage.py emulator_worker HIT_ID --worker AW1 --answer name=value`.
- Time: `mturk_emulator.clock` (`age_hit`, `age_assignment`, `expire_hit`, `process_due`) and
  `manage.py emulator_process`.
- Faults: `mturk_emulator.faults` (`set_faults`, `fail_next`, `clear_faults`), or POST/DELETE
  /emulator/faults/ when the setting MTURK_EMULATOR_FAULT_ENDPOINT is on (a 404 otherwise).
- Rate limit: a token bucket per requester account answering ThrottlingException above it, as MTurk
  does (`mturk_emulator.rate_limit`; the setting MTURK_EMULATOR_RATE_LIMIT, or "rate_limit" in
  the fault JSON; unlimited by default).

It imports nothing from crowdhr's other apps; they meet it only over HTTP, as with Amazon.
"""
