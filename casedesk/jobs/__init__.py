"""Durable background work and the counters that pace requests.

A core package, below tickets, mail and webhooks (and the SLA clocks to come), because all
of them keep work in their own tables and retry it the same way: rows with an indexed due
time, claimed with a lease, counted, backed off on one schedule and, after the last try,
held where staff can see them (`queue.py`). The sweeps the worker runs every round are
registered here too (`sweeps.py`), so an app registering one does not import the worker;
`casedesk.ops` only runs the rounds. The rate-limit window counter (`windows.py`) lives
here because it is the same kind of thing: a row per key and window, raised atomically
across processes.
"""
