"""crowdhr's local Amazon Mechanical Turk, mounted at /emulator/ in development and tests.

- Requester API: `boto3.client("mturk", endpoint_url="http://HOST/emulator/mturk/", ...)` with any
  access key (each access key id is its own requester account, starting with $10,000.00).
- Worker marketplace: http://HOST/emulator/ (choose a worker, preview, accept, work, return, submit).
- Scripted workers: `mturk_emulator.workers` (`accept`, `submit`, `return_assignment`, `work`) and
  `manage.py emulator_worker HIT_ID --worker AW1 --answer name=value`.
- Time: `mturk_emulator.clock` (`age_hit`, `age_assignment`, `expire_hit`, `process_due`) and
  `manage.py emulator_process`.
- Faults: `mturk_emulator.faults` (`set_faults`, `fail_next`, `clear_faults`) or POST/DELETE /emulator/faults/.

It imports nothing from crowdhr's other apps; they meet it only over HTTP, as with Amazon.
"""
