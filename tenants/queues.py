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
from collections.abc import Callable
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


def cluster_command_env(cluster: str | None) -> dict[str, str]:
    """The environment a ``manage.py qcluster`` child needs to run ``cluster`` (None: fast)."""
    env = dict(os.environ)
    env.pop("Q_CLUSTER_NAME", None)
    if cluster is not None:
        env["Q_CLUSTER_NAME"] = cluster
    return env
