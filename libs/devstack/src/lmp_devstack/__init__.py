"""Real local servers for the embedded stack, the integration tests and the benchmarks.

Each server runs as a child process in its own process group, logs to a file in its data
directory, and is ready only once a real client request succeeds: a Kafka metadata request
(Tansu), a MongoDB ``ping`` (SecantusDB), a PostgreSQL ``SELECT 1`` (a throwaway cluster).
None of it is a dependency of a service: the production image installs the workspace without
this package.
"""

from lmp_devstack.ports import LOCALHOST, free_port, port_is_open
from lmp_devstack.postgres import start_postgres
from lmp_devstack.processes import ManagedProcess, RunningServer
from lmp_devstack.secantus import start_secantus
from lmp_devstack.tansu import start_tansu

__all__ = [
    "LOCALHOST",
    "ManagedProcess",
    "RunningServer",
    "free_port",
    "port_is_open",
    "start_postgres",
    "start_secantus",
    "start_tansu",
]
