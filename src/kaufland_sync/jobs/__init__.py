"""Jobs: the service that keeps every account in step by itself (docs/adr/0003-jobs.md).

The database is the job ledger (:mod:`~kaufland_sync.jobs.ledger`: job states, the failed list,
per-account leases, schedules); the task queue (Huey on SQLite or Redis) only carries "run job
N" messages and their ETAs. :mod:`~kaufland_sync.jobs.scheduler` queues due schedules and
back-office changes and re-sends what a killed worker lost; :mod:`~kaufland_sync.jobs.queue`,
:mod:`~kaufland_sync.jobs.runner`, :mod:`~kaufland_sync.jobs.handlers` and
:mod:`~kaufland_sync.jobs.worker` send and run the jobs on the existing sync engines.

Nothing is imported here: importing ``kaufland_sync.jobs.ledger`` must not pull in the queue.
"""
