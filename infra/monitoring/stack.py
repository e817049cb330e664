"""DashboardStack: the environment's CloudWatch dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.managed.metrics import ManagedMetrics
from infra.monitoring.dashboard import EnvDashboard
from infra.services.metrics import ServiceMetrics


class DashboardStack(Stack):
    """One dashboard, ``<app>-<env>``, over every service. Deployed last: its graphs
    read the generated names of the services and load balancers from their stacks;
    the alarms it shows are found by their fixed names."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        services: Sequence[ServiceMetrics | ManagedMetrics],
        alarm_names: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        EnvDashboard(self, "Dashboard", name=name, services=services, alarm_names=alarm_names)
