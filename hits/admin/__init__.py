"""The researcher's admin for outsourced work, one module per page family.

- `hit`: HITs (changelist, actions, buttons, the page of one HIT's assignments);
  `statistics`: response-time statistics with an SVG histogram.
- `assignment`: assignments (approve, reject, save as data).
- `outsourcer`, `progress`: Outsourcers, and the progress page of long admin work
  (`work` runs an operation now or in the background).
- `worker`, `payment`: workers as a researcher sees them (their HITs' work) and the payment ledger.

Every action and button calls a service (`hits.services`, `hits.bulk`) and ends with a count
message; everything that spends money or changes a platform is a POST with a confirmation page
(see `crowdhr.admin_tools`). Researchers see only their own rows.
"""

from hits.admin import assignment, hit, outsourcer, payment, progress, statistics, worker

__all__ = ["assignment", "hit", "outsourcer", "payment", "progress", "statistics", "worker"]
