"""Commits that need not wait for the disk: the one rule, written once.

A task's transaction may commit with ``synchronous_commit = off`` (its ``COMMIT`` returns before
its WAL record reaches the disk; a server crash in the next fraction of a second may lose it,
never corrupt it) when losing it makes the task run again, not lose work:

* what the transaction consumes is still where it was found until a later commit says it is
  done (the ingest chunk's items, an undelivered outbox event), and
* that later commit is an ordinary one, *after* this one: django-q2 deleting the task from the
  ORM broker once it returned, or ``tenants.outbox`` marking the event delivered. PostgreSQL
  flushes the WAL up to a flushed commit's record, which includes every earlier commit, so once
  the work is marked done it is durable too. Before that, a crash leaves the task queued (handed
  out again after ``Q_RETRY``) or the event undelivered (queued again by the outbox sweeper),
  and the work is redone from the start, once, as after a killed worker.

Whatever the transaction queued for later (outbox events, django-q2 tasks) is written in it and
lost or kept with it. What this saves is the wait for the disk per transaction (wall time under
a lock, not CPU). Used by ``monitoring.pipeline.process_chunk`` and ``tenants.outbox.deliver``.
"""

from __future__ import annotations

from django.db import connection


def commit_without_flush() -> None:
    """Let the current transaction's commit return before its WAL reaches the disk (see the
    module docstring for when that is safe). Call it inside the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
