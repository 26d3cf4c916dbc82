"""Play a participant of the local Prolific: take part, complete with a code, or return."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolific_emulator import participants


class Command(BaseCommand):
    help = "Take part in a study of the local Prolific as a participant, then complete or return."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study_id")
        parser.add_argument("--participant", help="24 hex characters (default: a new participant)")
        parser.add_argument("--code", help="complete with this completion code")
        parser.add_argument("--return", dest="give_back", action="store_true", help="return the place")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            participant_id = options["participant"] or participants.new_participant()
            submission = participants.take_part(options["study_id"], participant_id)
            if options["give_back"]:
                participants.return_submission(submission)
            elif options["code"] is not None:
                submission = participants.complete(submission, options["code"])
        except participants.Refused as refusal:
            raise CommandError(str(refusal)) from None
        submission.refresh_from_db()
        self.stdout.write(
            f"Participant {participant_id}: submission {submission.id} is {submission.status}.\n"
            f"Study link: {participants.study_link(submission)}"
        )
