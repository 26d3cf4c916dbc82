from urllib.parse import urlencode

from otree.api import *

doc = """
A one-round effort task: the worker chooses how many units of effort to give and earns
$0.10 for each. The last page sends the worker back to crowdhr.
"""


class C(BaseConstants):
    NAME_IN_URL = "effort"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1
    MAX_EFFORT = 10
    PAY_PER_UNIT = cu(0.10)  # dollars: the project does not use points


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    effort = models.IntegerField(
        min=0,
        max=C.MAX_EFFORT,
        label=f"How many units of effort do you give (0 to {C.MAX_EFFORT}, $0.10 each)?",
    )


def crowdhr_done_link(player: Player) -> str:
    """Where the worker goes when the study is over: crowdhr's done page for this worker."""
    done_url = player.session.config.get("crowdhr_done_url", "")
    if not done_url:
        return ""
    separator = "&" if "?" in done_url else "?"
    return done_url + separator + urlencode({"participant_label": player.participant.label or ""})


# PAGES
class Intro(Page):
    pass


class Effort(Page):
    form_model = "player"
    form_fields = ["effort"]

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        player.payoff = player.effort * C.PAY_PER_UNIT
        player.participant.finished = True


class Done(Page):
    @staticmethod
    def vars_for_template(player: Player):
        return dict(crowdhr_done_url=crowdhr_done_link(player))


page_sequence = [Intro, Effort, Done]
