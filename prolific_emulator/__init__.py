"""crowdhr's local Prolific, mounted at /emulator/prolific/ in development and tests.

- Researcher API: Prolific's REST API v1 at /emulator/prolific/api/v1/ with
  `Authorization: Token <token>`; tokens and workspaces are made by `accounts.ensure_workspace`
  or `manage.py prolific_emulator_workspace --token T [--balance 1000.00] [--currency USD]`.
- Participant pages: /emulator/prolific/ (choose a participant, take part, return; the
  completion URL is /emulator/prolific/submissions/complete?cc=<code>).
- Scripted participants: `prolific_emulator.participants` (`take_part`, `complete`,
  `return_submission`) and `manage.py prolific_emulator_participant`.
- Time: `prolific_emulator.clock` (`age_submission`, `process_due`).
- Faults: `prolific_emulator.faults` (`fail_next`, `clear_faults`) or /emulator/prolific/faults/
  while the test switch is on.
- Hooks: `prolific_emulator.hooks` (`deliveries`, `payloads`, `deliver_pending`) and
  `manage.py prolific_emulator_process`.

It imports nothing from crowdhr's other apps; they meet it only over HTTP, as with Prolific.
"""
