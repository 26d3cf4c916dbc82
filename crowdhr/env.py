"""Reading crowdhr's configuration from the environment.

Every variable crowdhr reads is declared here once, with its meaning, so that the
settings, app.json and the README cannot drift apart (a test compares them).
"""

from __future__ import annotations

import os

VARIABLES: dict[str, str] = {
    "DEBUG": "Development mode. Off on Heroku (where DYNO is set) unless turned on.",
    "SECRET_KEY": "Django's secret key. Required when DEBUG is off.",
    "ALLOWED_HOSTS": "Comma-separated host names crowdhr answers to.",
    "CSRF_TRUSTED_ORIGINS": "Comma-separated origins (https://host) trusted for forms.",
    "DATABASE_URL": "Database URL. Default: a SQLite file in var/.",
    "REDIS_URL": "Redis URL for the Celery broker. Default: an embedded broker in var/.",
    "SECRETS_ENCRYPTION_KEY": "Key for encrypting stored credentials (MTurk secrets, oTree REST keys).",
    "MTURK_ENDPOINT": "emulator, sandbox, live, or a URL. Default: emulator when DEBUG, else sandbox.",
    "MTURK_EMULATOR_URL": "Where the local Mechanical Turk answers (emulator endpoint only).",
    "ALLOW_EMULATOR_IN_PRODUCTION": "Test-only switch that lets production settings use the emulator.",
    "AWS_ACCESS_KEY_ID": "Default MTurk credentials for accounts that have none of their own.",
    "AWS_SECRET_ACCESS_KEY": "Default MTurk secret for accounts that have none of their own.",
    "PROLIFIC_LIVE": "Let live Prolific accounts spend real money (1/true). Default: off.",
    "PROLIFIC_EMULATOR_URL": "Where the local Prolific's API answers (development and tests).",
    "PROLIFIC_EMULATOR_FAULTS": "Open the local Prolific's fault endpoint (1). Development and tests only.",
    "AWS_STORAGE_BUCKET_NAME": "S3 bucket for uploaded files. Unset: local disk.",
    "AWS_S3_REGION_NAME": "Region of the S3 bucket.",
    "SITE_URL": "The public base URL of crowdhr, used in ExternalQuestion links.",
    "MINIMUM_HOURLY_WAGE": "Warn below this effective hourly wage in dollars (default 7.25).",
    "SENTRY_DSN": "Error reporting with Sentry when set.",
    "LOG_LEVEL": "Level of the structured log lines written to stdout.",
    "ADMIN_EMAIL": "First admin's e-mail (Heroku postdeploy).",
    "ADMIN_USERNAME": "First admin's user name (Heroku postdeploy).",
    "ADMIN_PASSWORD": "First admin's password (Heroku postdeploy).",
    "EMAIL_URL": "SMTP server for e-mails to researchers, as smtp://user:pass@host:port. Unset: console.",
    "DEFAULT_FROM_EMAIL": "Sender of e-mails to researchers.",
    "CROWDHR_VAR_DIR": "Folder for local state (SQLite file, embedded broker, uploads). Default: var/.",
    "DYNO": "Set by Heroku on every dyno; when present, DEBUG defaults to off.",
}


def _declared(name: str) -> str:
    if name not in VARIABLES:
        raise KeyError(f"{name} is not declared in crowdhr.env.VARIABLES")
    return name


def text(name: str, default: str = "") -> str:
    """The variable as a string, or the default when it is unset or empty."""
    return os.environ.get(_declared(name)) or default


def flag(name: str, default: bool = False) -> bool:
    """The variable as a boolean: 1/true/yes/on are true."""
    value = os.environ.get(_declared(name), "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def listing(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable as a list of non-empty items."""
    value = os.environ.get(_declared(name), "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default
