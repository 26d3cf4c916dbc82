"""The oTree project crowdhr ships for its tests and demo: one small effort task.

Everything secret comes from the environment (crowdhr's test fixture and `manage.py run_otree`
set it). The REST API answers only with the `otree-rest-key` header equal to OTREE_REST_KEY.
"""

from os import environ

SESSION_CONFIGS = [
    dict(
        name="effort",
        display_name="Effort task (crowdhr demo)",
        app_sequence=["effort"],
        num_demo_participants=3,
    ),
]

# crowdhr_done_url: crowdhr sets it when it creates the session over REST (see README.md).
SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=0.01,
    participation_fee=0.00,
    use_browser_bots=False,
    crowdhr_done_url="",
    doc="",
)

# 'finished' makes oTree report each participant's finished flag in the REST API.
PARTICIPANT_FIELDS = ["finished"]
SESSION_FIELDS = []

ROOMS = [
    dict(name="crowdhr", display_name="crowdhr workers"),
]

LANGUAGE_CODE = "en"
# Payoffs are dollars, shown as "$0.70" (no points), the same amount crowdhr pays as a bonus.
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = False

AUTH_LEVEL = environ.get("OTREE_AUTH_LEVEL", "STUDY")
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD", "")

DEMO_PAGE_INTRO_HTML = "The effort task that crowdhr's tests and demo send MTurk workers into."

SECRET_KEY = environ.get("OTREE_SECRET_KEY", "crowdhr-otree-development-only-not-secret")
