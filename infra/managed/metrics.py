"""What a managed engine is watched by: its graphs on the dashboard, and its alarms."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cloudwatch

from infra.config import AlarmsConfig, ManagedConfig
from infra.services.alarms import AlarmSpec
from infra.services.metrics import PERIOD

GB = 1024**3


@dataclass(frozen=True)
class ManagedMetrics:
    """A managed service's row on the dashboard: ``graphs`` (title, metrics) and the
    alarms its metrics raise."""

    name: str
    graphs: list[tuple[str, list[cloudwatch.IMetric]]]
    alarms: list[AlarmSpec]


def _metric(namespace: str, name: str, dimensions: dict[str, str], statistic: str,
            label: str) -> cloudwatch.Metric:  # fmt: skip
    """One metric of an engine, per minute as the alarms decide."""
    return cloudwatch.Metric(namespace=namespace, metric_name=name, dimensions_map=dimensions,
                             statistic=statistic, period=PERIOD, label=label)  # fmt: skip


def valkey_metrics(
    name: str, cache_name: str, config: ManagedConfig, thresholds: AlarmsConfig
) -> ManagedMetrics:
    """ElastiCache Serverless's own metrics, by the cache's name."""
    dims = {"clusterId": cache_name}
    ecpus = _metric("AWS/ElastiCache", "ElastiCacheProcessingUnits", dims, "Sum", "ECPUs")
    stored = _metric("AWS/ElastiCache", "BytesUsedForCache", dims, "Average", "bytes stored")
    throttled = _metric("AWS/ElastiCache", "ThrottledCmds", dims, "Sum", "throttled commands")

    def alarms() -> Iterator[AlarmSpec]:
        limit = " (managed.max_storage_gb)" if config.max_storage_gb is not None else ""
        yield AlarmSpec("throttled", throttled, 1, 5, "The cache throttled commands for 5 "
                        f"minutes: it is at its usage limits{limit} or scaling up.")  # fmt: skip
        if config.max_storage_gb is not None:
            share = thresholds.memory_percent
            yield AlarmSpec("storage-high", stored, config.max_storage_gb * GB * share / 100, 5,
                            f"Data stored at or above {share} % of managed.max_storage_gb "
                            f"({config.max_storage_gb} GB) for 5 minutes; at 100 % writes "
                            "are refused.")  # fmt: skip

    graphs: list[tuple[str, list[cloudwatch.IMetric]]] = [
        ("ECPUs / minute", [ecpus]),
        ("data stored", [stored]),
        ("throttled", [throttled]),
    ]
    return ManagedMetrics(name, graphs, list(alarms()))


def postgres_metrics(name: str, cluster_id: str, thresholds: AlarmsConfig) -> ManagedMetrics:
    """Aurora's cluster metrics, by the cluster's identifier."""
    dims = {"DBClusterIdentifier": cluster_id}
    capacity = _metric("AWS/RDS", "ACUUtilization", dims, "Average", "capacity % of max")
    cpu = _metric("AWS/RDS", "CPUUtilization", dims, "Average", "CPU %")
    connections = _metric("AWS/RDS", "DatabaseConnections", dims, "Maximum", "connections")
    share = thresholds.cpu_percent
    alarms = [AlarmSpec("capacity-high", capacity, share, 5, f"The writer used {share} % or "
                        "more of managed.max_capacity for 5 minutes: raise it, or queries "
                        "slow down.")]  # fmt: skip
    graphs: list[tuple[str, list[cloudwatch.IMetric]]] = [
        ("capacity and CPU %", [capacity, cpu]),
        ("connections", [connections]),
    ]
    return ManagedMetrics(name, graphs, alarms)
