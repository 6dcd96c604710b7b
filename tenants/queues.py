"""The two task queues: fast work (ingest chunks, polling, alerting, housekeeping) and slow work
(reports, retraining, re-scoring, backtests).

Each queue has its own django-q2 cluster, so a job that runs for minutes never holds a worker
that an ingest chunk is waiting for. ``async_task`` (the default cluster, ``Q_CLUSTER["name"]``)
is the fast queue; ``enqueue_slow`` puts a job on the slow cluster (``Q_SLOW_WORKERS`` workers,
``Q_SLOW_TIMEOUT`` seconds per job), started as ``Q_CLUSTER_NAME=slow manage.py qcluster``
(``manage.py serve`` and the production units start both). Both clusters share the broker
table; a task row names its queue in ``key``. As with every task, pass ids, never model
instances, and a dotted path that stays stable (queued tasks and schedules store it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

SLOW_CLUSTER = "slow"


def fast_cluster() -> str:
    """The name of the default (fast) cluster, whose heartbeat ``/readyz`` checks."""
    return str(settings.Q_CLUSTER["name"])


def enqueue_slow(func: str | Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Queues ``func(*args, **kwargs)`` on the slow cluster; answers the task id.

    Takes what ``django_q.tasks.async_task`` takes (``task_name=``, ``hook=``, ``group=``...),
    except ``cluster=``, which is always the slow one.
    """
    from django_q.tasks import async_task

    if "cluster" in kwargs:
        raise TypeError("enqueue_slow() always uses the slow cluster; do not pass cluster=")
    return str(async_task(func, *args, cluster=SLOW_CLUSTER, **kwargs))


class _Collected:
    """A stand-in broker for ``async_task``: keeps the signed packages it is handed."""

    def __init__(self, list_key: str) -> None:
        self.list_key = list_key
        self.packages: list[str] = []

    def enqueue(self, package: str) -> None:
        self.packages.append(package)


def async_tasks(calls: Iterable[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[str]:
    """Queue several ``(func, args, kwargs)`` on the fast cluster, each packed and signed by
    ``django_q.tasks.async_task`` itself, and write their broker rows in one INSERT (the ORM
    broker; another broker takes them one by one). Answers the task ids. Like ``async_task``,
    call it inside the transaction that did the work: the rows commit with it."""
    from django.utils import timezone
    from django_q.brokers import get_broker
    from django_q.brokers.orm import ORM
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    calls = list(calls)
    if not calls:
        return []
    broker = get_broker()
    collected = _Collected(broker.list_key)
    ids = [str(async_task(func, *args, broker=collected, **kwargs)) for func, args, kwargs in calls]
    if isinstance(broker, ORM):
        now = timezone.now()
        key = broker.list_key or Conf.CLUSTER_NAME
        broker.get_connection().bulk_create(
            [OrmQ(key=key, payload=package, lock=now) for package in collected.packages]
        )
    else:
        for package in collected.packages:
            broker.enqueue(package)
    return ids


def cluster_command_env(cluster: str | None) -> dict[str, str]:
    """The environment a ``manage.py qcluster`` child needs to run ``cluster`` (None: fast)."""
    env = dict(os.environ)
    env.pop("Q_CLUSTER_NAME", None)
    if cluster is not None:
        env["Q_CLUSTER_NAME"] = cluster
    return env
