"""ServiceAlarms: one service's alarms, under fixed names, notifying the env's alarm topic."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import AlarmsConfig
from infra.names import pascal
from infra.services.metrics import MIN_REQUESTS, PERIOD, ServiceMetrics

# The alarms a deploy watches: the new tasks serve errors, or slowly.
DEPLOYMENT_KINDS = ("target-5xx", "latency-p99")
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


def alarm_name(stack_name: str, kind: str) -> str:
    """``<app>-<env>-<service>-<kind>``: fixed, so a service can name its own alarms
    as deployment alarms without a reference cycle, and people can find them."""
    return f"{stack_name}-{kind}"


def deployment_alarm_names(stack_name: str, http: bool) -> list[str]:
    """The alarms that roll a deploy back: a service behind an application load
    balancer has them; one without (a network balancer, none) has the circuit breaker."""
    return [alarm_name(stack_name, kind) for kind in DEPLOYMENT_KINDS] if http else []


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its kind (the end of its name), what it watches and when it fires."""

    kind: str
    metric: cloudwatch.IMetric
    threshold: float
    minutes: int
    description: str


def alarm_specs(metrics: ServiceMetrics, thresholds: AlarmsConfig) -> Iterator[AlarmSpec]:
    """The alarms of a service with ``metrics``, at ``thresholds``."""
    if metrics.running is not None and metrics.desired is not None:
        # A stateful deploy stops its task before starting the next: minutes, not one.
        yield AlarmSpec(
            "tasks-below-desired",
            cloudwatch.MathExpression(
                expression="desired - running",
                using_metrics={"desired": metrics.desired, "running": metrics.running},
                label="tasks missing",
                period=PERIOD,
            ),
            1,
            5,
            "Fewer tasks run than ECS wants: tasks fail to start or keep stopping.",
        )
    yield AlarmSpec(
        "cpu-high", metrics.cpu, thresholds.cpu_percent, 5,
        f"CPU at or above {thresholds.cpu_percent} % of the task's for 5 minutes.",
    )  # fmt: skip
    yield AlarmSpec(
        "memory-high", metrics.memory, thresholds.memory_percent, 5,
        f"Memory at or above {thresholds.memory_percent} % of the task's for 5 minutes; "
        "at 100 % the container is killed.",
    )  # fmt: skip
    if metrics.http is not None:
        yield AlarmSpec(
            "target-5xx", metrics.http.target_5xx_percent, thresholds.target_5xx_percent, 3,
            f"At least {thresholds.target_5xx_percent} % of requests got a 5xx from the "
            f"tasks (of one target group, with {MIN_REQUESTS}+ requests a minute) for 3 minutes. "
            "Rolls a deploy back.",
        )  # fmt: skip
        yield AlarmSpec(
            "lb-5xx", metrics.http.load_balancer_5xx, thresholds.load_balancer_5xx, 3,
            f"The load balancer itself answered 5xx {thresholds.load_balancer_5xx}+ times a "
            "minute for 3 minutes: no healthy task, or tasks refusing connections.",
        )  # fmt: skip
        yield AlarmSpec(
            "latency-p99", metrics.http.latency_p99, thresholds.latency_p99_ms / 1000, 3,
            f"The slowest 1 % of requests took {thresholds.latency_p99_ms} ms or more for "
            "3 minutes. Rolls a deploy back.",
        )  # fmt: skip
    if metrics.unhealthy_targets is not None:
        yield AlarmSpec(
            "unhealthy-targets", metrics.unhealthy_targets, 1, 3,
            "A task failed the load balancer's health check for 3 minutes.",
        )  # fmt: skip


class ServiceAlarms(Construct):
    """A service's alarms (``specs``), named ``<stack name>-<kind>``, notifying ``topic`` on
    ALARM and on OK. A minute without data (no requests, no tasks yet) is not
    an alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        specs: Iterable[AlarmSpec],
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.names: list[str] = []
        notify = actions.SnsAction(topic)
        for spec in specs:
            name = alarm_name(stack_name, spec.kind)
            alarm = cloudwatch.Alarm(
                self, pascal(spec.kind), alarm_name=name, alarm_description=spec.description,
                metric=spec.metric, threshold=spec.threshold, comparison_operator=ABOVE,
                evaluation_periods=spec.minutes, datapoints_to_alarm=spec.minutes,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )  # fmt: skip
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)
            self.names.append(name)
