"""Serve crowdhr's shipped oTree project for the demo, in the foreground until Ctrl-C.

The demo oTree has fixed, public credentials (`experiments.otree_server.DEMO_OTREE_*`), which
`demo_setup` can give the demo's oTree site; it refuses to run without DEBUG.
"""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from experiments.otree_env import OtreeEnvError, ensure_otree_env
from experiments.otree_server import (
    DEMO_OTREE_ADMIN_PASSWORD,
    DEMO_OTREE_PORT,
    DEMO_OTREE_REST_KEY,
    OtreeServerError,
    start_otree_server,
)


class Command(BaseCommand):
    help = "Run the oTree project in otree_project/ on 127.0.0.1 (port 8001) for the demo, until Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=DEMO_OTREE_PORT)

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("run_otree serves the demo oTree project and runs only with DEBUG on.")
        try:
            ensure_otree_env(say=self.stdout.write)
            server = start_otree_server(
                settings.VAR_DIR / "otree",
                rest_key=DEMO_OTREE_REST_KEY,
                admin_password=DEMO_OTREE_ADMIN_PASSWORD,
                port=port,
            )
        except (OtreeEnvError, OtreeServerError) as error:
            raise CommandError(str(error)) from error
        # honcho stops its processes with SIGTERM; treat it like Ctrl-C so oTree stops too.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.default_int_handler)
        self.stdout.write(
            f"oTree is serving {server.work_dir} at {server.url}/ "
            f"(admin: admin / {DEMO_OTREE_ADMIN_PASSWORD}, REST key {DEMO_OTREE_REST_KEY}). "
            "Ctrl-C stops it."
        )
        try:
            server.process.wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping oTree")
        finally:
            server.stop()
        if server.process.returncode not in (0, -signal.SIGTERM):
            raise CommandError(f"oTree stopped with exit code {server.process.returncode}")
