"""EnvDashboard: one CloudWatch dashboard for every service of an environment."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.managed.metrics import ManagedMetrics
from infra.names import pascal
from infra.services.metrics import ServiceMetrics

WIDTH = 24  # a dashboard row is 24 units wide
HEIGHT = 6


class EnvDashboard(Construct):
    """A dashboard named ``name``: the state of every alarm on top, then a row per
    service with its tasks (running against desired), CPU and memory, and for a
    public service its requests, 5xx responses and p99 response time."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        services: Sequence[ServiceMetrics | ManagedMetrics],
        alarm_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name)
        # Alarms by name: an ARN built here needs no reference to their stacks.
        alarms = [
            cloudwatch.Alarm.from_alarm_name(self, pascal(alarm), alarm) for alarm in alarm_names
        ]
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=alarms, width=WIDTH, height=max(2, len(alarms) // 4 + 2),
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            )
        )  # fmt: skip
        for service in services:
            dashboard.add_widgets(*_row(service))


def _row(service: ServiceMetrics | ManagedMetrics) -> list[cloudwatch.IWidget]:
    """The graphs of one service, side by side (a managed engine's are its own)."""
    graphs: list[tuple[str, list[cloudwatch.IMetric]]] = []
    if isinstance(service, ManagedMetrics):
        return _widgets(service.name, service.graphs)
    if service.running is not None and service.desired is not None:
        graphs.append(("tasks", [service.running.with_(label="running"),
                                 service.desired.with_(label="desired")]))  # fmt: skip
    graphs.append(("CPU and memory %", [service.cpu, service.memory]))
    if service.http is not None:
        graphs.append(("requests / minute", [service.http.requests]))
        graphs.append(("5xx / minute", [service.http.target_5xx, service.http.load_balancer_5xx]))
        graphs.append(("p99 response time (s)", [service.http.latency_p99]))
    elif service.unhealthy_targets is not None:
        graphs.append(("unhealthy targets", [service.unhealthy_targets]))
    return _widgets(service.name, graphs)


def _widgets(
    name: str, graphs: list[tuple[str, list[cloudwatch.IMetric]]]
) -> list[cloudwatch.IWidget]:
    """One row: each (title, metrics) graph, sharing the width."""
    width = WIDTH // len(graphs)
    return [
        cloudwatch.GraphWidget(title=f"{name}: {title}", left=metrics, width=width, height=HEIGHT)
        for title, metrics in graphs
    ]
