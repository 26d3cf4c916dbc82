"""Play a worker of the local Mechanical Turk: accept a HIT and submit answers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mturk_emulator import workers


class Command(BaseCommand):
    help = "Accept a HIT of the local Mechanical Turk as a simulated worker and submit answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("hit_id", help="the HIT to work on")
        parser.add_argument("--worker", default="ADEMOWORKER", help="the worker id (default ADEMOWORKER)")
        parser.add_argument(
            "--answer",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="an answer field; repeat for several",
        )
        parser.add_argument("--accept-only", action="store_true", help="accept, but do not submit")
        parser.add_argument("--return", dest="give_back", action="store_true", help="accept, then return it")

    def handle(self, *args: Any, **options: Any) -> None:
        answers = self._answers(options["answer"])
        try:
            assignment_id = workers.accept(options["hit_id"], options["worker"])
            if options["give_back"]:
                workers.return_assignment(assignment_id)
                self.stdout.write(f"Accepted and returned assignment {assignment_id}.")
                return
            if not options["accept_only"]:
                workers.submit(assignment_id, answers)
        except workers.WorkRefused as refusal:
            raise CommandError(str(refusal)) from None
        done = "Accepted" if options["accept_only"] else "Submitted"
        self.stdout.write(self.style.SUCCESS(f"{done} assignment {assignment_id} as {options['worker']}."))

    def _answers(self, pairs: list[str]) -> dict[str, str]:
        answers = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise CommandError(f"--answer needs NAME=VALUE, not {pair!r}")
            answers[name] = value
        return answers
