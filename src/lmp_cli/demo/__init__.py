"""`lmp demo`: a federation of three atom cities runs one programme cycle through the public gRPC
APIs only, as external portals would, and the scorecards and the leaderboard are printed."""

from lmp_cli.demo.command import run
from lmp_cli.demo.output import Printer, print_results
from lmp_cli.demo.programme import SECONDARY_SCORES, load_federation
from lmp_cli.demo.scenario import scenario

__all__ = ["SECONDARY_SCORES", "Printer", "load_federation", "print_results", "run", "scenario"]
