from voting.domain.ballots import Ballot
from voting.domain.polls import OptionSpec, Poll, PollSpec

__all__ = ["Ballot", "OptionSpec", "Poll", "PollSpec"]
