"""One launcher for every throwaway or local Cairn: the argv of each process, embedded
Postgres + Redis (+ an optional S3 API), `cairn migrate` / `export-model` once, subprocesses in
their own process groups with log files, one readiness probe per kind, and teardown.

Used by `cairn eval` (app/eval/platform.py), bench/, the test run (tests/conftest.py,
tests/fault_procs.py) and, through `cairn supervisor-config`, by ./start.sh under supervisord.

  argv.py        the command line of each process (API, worker, console, services, cli)
  procs.py       Proc (a subprocess in its own group), the readiness probes, teardown
  platform.py    Platform: services + migrations + API + workers in a temp dir
  supervisor.py  the supervisord.conf of ./start.sh
  envexec.py     loads env files written at run time, then execs a program (supervisord)
"""

from app.launcher.procs import LaunchError, Proc, wait_api_ready, wait_worker_ready

__all__ = ["LaunchError", "Proc", "wait_api_ready", "wait_worker_ready"]
