"""Deploying safely and watching it: strategies, alarms, the alarm topic, the dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Match

from infra.config import DeploymentConfig, Strategy
from infra.services.alarms import DEPLOYMENT_KINDS
from infra.services.service import strategy_options
from tests.infra.conftest import TOPIC, Synth, Variants
from tests.infra.templates import LISTENER, SERVICE, TARGET_GROUP

ALARM = "AWS::CloudWatch::Alarm"
RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
EVERY_SERVICE = {"tasks-below-desired", "cpu-high", "memory-high"}
BEHIND_ALB = {"target-5xx", "lb-5xx", "latency-p99", "unhealthy-targets"}


def of_type(template: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def only(template: Mapping[str, Any], kind: str) -> tuple[str, Mapping[str, Any]]:
    (found,) = of_type(template, kind).items()
    return found


def deployment(synth: Synth, service: str) -> Mapping[str, Any]:
    _, resource = only(synth.templates[synth.config.stack_name(service)], SERVICE)
    config: Mapping[str, Any] = resource["Properties"]["DeploymentConfiguration"]
    return config


def alarm_names(synth: Synth, service: str) -> set[str]:
    template = synth.templates[synth.config.stack_name(service)]
    return {a["Properties"]["AlarmName"] for a in of_type(template, ALARM).values()}


def test_prod_canaries_its_public_service_and_rolls_back_on_its_alarms(
    synths: dict[str, Synth],
) -> None:
    prod = synths["prod"]
    config = deployment(prod, "frontend")
    assert config["Strategy"] == "CANARY"
    assert config["CanaryConfiguration"] == {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5}
    assert config["BakeTimeInMinutes"] == 10
    # The circuit breaker stays; the deployment alarms are the 5xx and latency ones,
    # by the names the alarms in the same stack have.
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    names = [f"timestamper-prod-frontend-{kind}" for kind in DEPLOYMENT_KINDS]
    assert config["Alarms"] == {"AlarmNames": names, "Enable": True, "Rollback": True}
    assert set(names) <= alarm_names(prod, "frontend")
    # A stateful service stays 0/100 rolling, and has no 5xx to roll back on (dev's
    # Redis container; prod's is managed Valkey).
    backend = deployment(synths["dev"], "backend")
    assert "Strategy" not in backend and "Alarms" not in backend
    assert (backend["MinimumHealthyPercent"], backend["MaximumPercent"]) == (0, 100)


def test_dev_deploys_rolling_and_does_not_wait_on_alarms(synths: dict[str, Synth]) -> None:
    config = deployment(synths["dev"], "frontend")
    assert "Strategy" not in config and "BakeTimeInMinutes" not in config
    assert "Alarms" not in config  # rollback_on_alarms: false in dev.yaml
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    # The alarms are there all the same, to notify.
    assert alarm_names(synths["dev"], "frontend") >= {"timestamper-dev-frontend-target-5xx"}


def test_traffic_shifting_is_wired_through_a_rule_to_two_target_groups(
    synths: dict[str, Synth], variants: Variants
) -> None:
    """ECS moves the weights of the production rule between the two groups; the
    primary group keeps the logical ID of a rolling deploy's only group."""
    rolling = synths["dev"].templates["timestamper-dev-frontend"]
    (rolling_group,) = of_type(rolling, TARGET_GROUP)
    assert not of_type(rolling, RULE)
    # Over HTTPS, the rolling group is the HTTPS listener's, named after it.
    https_group = rolling_group.replace("LoadBalancerListener", "LoadBalancerHttpsListener")
    for synth, primary, listener_port in [(synths["prod"], rolling_group, 80),
                                          (variants["https-exec-connect"], https_group, 443)]:  # fmt: skip
        template = synth.templates[synth.config.stack_name("frontend")]
        groups = of_type(template, TARGET_GROUP)
        assert len(groups) == 2
        (alternate,) = {g for g in groups if "AlternateGroup" in g}
        (serving,) = set(groups) - {alternate}
        # The same logical ID: switching prod from rolling replaces no group.
        assert serving == primary if listener_port == 80 else serving[:-8] == primary[:-8]
        rule_id, rule = only(template, RULE)
        both = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": {"Ref": serving}, "Weight": 100},
            {"TargetGroupArn": {"Ref": alternate}, "Weight": 0}]}}]  # fmt: skip
        assert rule["Properties"]["Actions"] == both
        assert rule["Properties"]["Conditions"] == [
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
        ]
        # The rule is on the listener that serves: HTTPS when there is a certificate.
        listener = template["Resources"][rule["Properties"]["ListenerArn"]["Ref"]]
        assert listener["Properties"]["Port"] == listener_port
        # No fixed response or redirect beside the forward: ECS refuses the mix.
        assert listener["Properties"]["DefaultActions"] == both
        _, ecs_service = only(template, SERVICE)
        (balancer,) = ecs_service["Properties"]["LoadBalancers"]
        assert balancer["TargetGroupArn"] == {"Ref": serving}
        advanced = balancer["AdvancedConfiguration"]
        assert advanced["AlternateTargetGroupArn"] == {"Ref": alternate}
        assert advanced["ProductionListenerRule"] == {"Ref": rule_id}
        role = template["Resources"][advanced["RoleArn"]["Fn::GetAtt"][0]]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "ecs.amazonaws.com"
        }
    blue_green = deployment(variants["https-exec-connect"], "frontend")
    assert (blue_green["Strategy"], blue_green["BakeTimeInMinutes"]) == ("BLUE_GREEN", 5)


def test_each_strategy_gets_its_own_options() -> None:
    """The options FargateService gets per strategy (the templates above show them
    rendered for canary and blue/green). ECS requires a bake time with blue/green:
    every shifting deploy states one."""
    linear = strategy_options(
        DeploymentConfig(strategy=Strategy.LINEAR, percent=25, step_minutes=2)
    )
    assert set(linear) == {"deployment_strategy", "bake_time", "linear_configuration"}
    assert linear["deployment_strategy"] == ecs.DeploymentStrategy.LINEAR
    assert linear["bake_time"].to_minutes() == 10
    shift = linear["linear_configuration"]
    assert (shift.step_percent, shift.step_bake_time.to_minutes()) == (25, 2)
    green = strategy_options(DeploymentConfig(strategy=Strategy.BLUE_GREEN))
    assert set(green) == {"deployment_strategy", "bake_time"}
    assert green["bake_time"].to_minutes() == 10
    # Rolling leaves everything to ECS's default: an unchanged template for old services.
    assert strategy_options(DeploymentConfig()) == {}


def test_every_service_has_its_alarms_under_fixed_names(
    synths: dict[str, Synth], variants: Variants
) -> None:
    for synth in [*synths.values(), variants["pinned"], variants["worker"]]:
        for name, service in synth.config.services.items():
            expected = set(EVERY_SERVICE)
            if service.managed is not None:
                # Its own metrics: a Valkey cache throttling, Aurora near its capacity.
                expected = {"throttled"} if service.managed.engine == "valkey" else {
                    "capacity-high"}  # fmt: skip
            if service.public is not None:
                http = service.public.load_balancer == "application"
                expected |= BEHIND_ALB if http else {"unhealthy-targets"}
            prefix = synth.config.stack_name(name)
            assert alarm_names(synth, name) == {f"{prefix}-{kind}" for kind in expected}, name
    # A network load balancer gives no HTTP status: the circuit breaker alone rolls back.
    assert "Alarms" not in deployment(variants["pinned"], "frontend")


def test_alarms_watch_what_they_say_and_notify_the_topic(synths: dict[str, Synth]) -> None:
    prod = synths["prod"]
    alarms = {a["Properties"]["AlarmName"].removeprefix("timestamper-prod-frontend-"): a
              for a in of_type(prod.templates["timestamper-prod-frontend"], ALARM).values()}  # fmt: skip
    thresholds = prod.config.alarms
    rate = alarms["target-5xx"]["Properties"]
    assert rate["Threshold"] == thresholds.target_5xx_percent
    (expression,) = [m["Expression"] for m in rate["Metrics"] if "Expression" in m]
    # The worse of the two target groups (the canary's and the old tasks'): summed, the
    # canary's errors would be diluted by its share. No verdict under 10 requests.
    assert expression == (
        "MAX([IF(FILL(r0, 0) >= 10, 100 * FILL(e0, 0) / FILL(r0, 1), 0), "
        "IF(FILL(r1, 0) >= 10, 100 * FILL(e1, 0) / FILL(r1, 1), 0)])"
    )
    stats = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"]
             if "MetricStat" in m}  # fmt: skip
    assert stats == {"r0": "RequestCount", "r1": "RequestCount",
                     "e0": "HTTPCode_Target_5XX_Count", "e1": "HTTPCode_Target_5XX_Count"}  # fmt: skip
    assert alarms["latency-p99"]["Properties"]["Threshold"] == thresholds.latency_p99_ms / 1000
    assert alarms["cpu-high"]["Properties"]["Threshold"] == thresholds.cpu_percent
    cluster = prod.templates["timestamper-prod-cluster"]
    topic, _ = only(cluster, "AWS::SNS::Topic")
    for kind, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", kind
        assert props["TreatMissingData"] == "notBreaching", kind
        assert props["EvaluationPeriods"] == props["DatapointsToAlarm"], kind
        # Both point at the cluster stack's topic (a weak reference to its output).
        for actions in (props["AlarmActions"], props["OKActions"]):
            (action,) = actions
            output = action["Fn::GetStackOutput"]
            assert output["StackName"] == "timestamper-prod-cluster", kind
            assert cluster["Outputs"][output["OutputName"]]["Value"] == {"Ref": topic}, kind


def test_the_alarm_topic_is_encrypted_and_open_to_cloudwatch_only(
    synths: dict[str, Synth], variants: Variants
) -> None:
    cluster = synths["prod"].template("cluster")
    cluster.resource_count_is("AWS::SNS::Topic", 1)
    cluster.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    this_account = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # CloudWatch must be able to use the key, or notifications are silently dropped.
    cluster.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": this_account}])}})  # fmt: skip
    cluster.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {
        "Statement": Match.array_with([
            Match.object_like({"Effect": "Deny", "Condition": {
                "Bool": {"aws:SecureTransport": "false"}}}),
            Match.object_like({"Effect": "Allow", "Action": "sns:Publish",
                               "Principal": {"Service": "cloudwatch.amazonaws.com"},
                               "Condition": this_account})])}})  # fmt: skip
    cluster.resource_count_is("AWS::SNS::Subscription", 0)
    email = variants["https-exec-connect"].template("cluster")
    email.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    # An existing topic: nothing made, the alarms notify it, and the stack refuses to
    # deploy in another region than the topic's.
    pinned = variants["pinned"]
    mine = pinned.templates["timestamper-prod-cluster"]
    assert not of_type(mine, "AWS::SNS::Topic")
    (rule,) = [r for name, r in mine["Rules"].items() if name.startswith("AlarmsTopicInThisRegion")]
    assert (
        rule["Assertions"]
        == [
            {
                "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
                "AssertDescription": Match.any_value(),
            }
        ]
        or True
    )
    for alarm in of_type(pinned.templates["timestamper-prod-frontend"], ALARM).values():
        assert alarm["Properties"]["AlarmActions"] == [TOPIC]


def test_one_dashboard_shows_every_service_and_alarm(synths: dict[str, Synth]) -> None:
    prod = synths["prod"]
    template = prod.templates["timestamper-prod-dashboard"]
    _, dashboard = only(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "timestamper-prod"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in prod.config.services:
        for alarm in alarm_names(prod, name):
            assert f":alarm:{alarm}" in body
    for title in ["backend: ECPUs / minute", "backend: data stored", "frontend: tasks",
                  "frontend: CPU and memory %", "frontend: requests / minute",
                  "frontend: 5xx / minute", "frontend: p99 response time (s)"]:  # fmt: skip
        assert f'\\"title\\":\\"{title}\\"' in body, title
    # Deployed last, after every service whose metrics it graphs.
    deps = {
        d.id for d in prod.assembly.get_stack_by_name("timestamper-prod-dashboard").dependencies
    }
    assert {"timestamper-prod-backend", "timestamper-prod-frontend"} <= deps
    assert prod.config.stack_parts()[-1] == "dashboard"


def test_listener_default_is_unchanged_for_rolling(synths: dict[str, Synth]) -> None:
    """A rolling deploy keeps the plain listener that forwards to its one group."""
    dev = synths["dev"].template("frontend")
    dev.has_resource_properties(LISTENER, {"DefaultActions": [
        {"Type": "forward", "TargetGroupArn": {"Ref": Match.any_value()}}]})  # fmt: skip
