"""Queries on synthesized templates that several test modules share.

Resources are found through the assertions API by what they are and what they
refer to, never by a hashed logical ID (only the snapshot test pins those).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk.assertions import Capture, Match, Template

from tests.infra.conftest import Synth

SERVICE = "AWS::ECS::Service"
TASK = "AWS::ECS::TaskDefinition"
GROUP = "AWS::EC2::SecurityGroup"
INGRESS = "AWS::EC2::SecurityGroupIngress"
EGRESS = "AWS::EC2::SecurityGroupEgress"
SUBNET = "AWS::EC2::Subnet"
NAT = "AWS::EC2::NatGateway"
LOG_GROUP = "AWS::Logs::LogGroup"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"
DISCOVERY = "AWS::ServiceDiscovery::Service"
POLICY = "AWS::IAM::Policy"
# The config's removal_policy as the DeletionPolicy CloudFormation gets.
DELETION_POLICY = {"destroy": "Delete", "retain": "Retain"}


def container(template: Template, name: str, **props: Any) -> Mapping[str, Any]:
    """The one container of the stack's one task definition; it is named ``name`` and
    matches ``props`` (CloudFormation keys, as in ``Match.object_like``)."""
    template.resource_count_is(TASK, 1)
    # Captures nested in a Capture's pattern record nothing: match, then capture.
    template.has_resource_properties(
        TASK, {"ContainerDefinitions": [Match.object_like({"Name": name, **props})]}
    )
    box = Capture()
    template.has_resource_properties(TASK, {"ContainerDefinitions": [box]})
    return box.as_object()


def task_group(template: Template) -> Mapping[str, Any]:
    """The reference to the security group of the stack's one ECS service."""
    template.resource_count_is(SERVICE, 1)
    group = Capture()
    template.has_resource_properties(
        SERVICE, {"NetworkConfiguration": {"AwsvpcConfiguration": {"SecurityGroups": [group]}}}
    )
    return group.as_object()


def load_balancer_group(template: Template) -> Mapping[str, Any]:
    """The reference to the one security group of the stack's one load balancer."""
    template.resource_count_is(LOAD_BALANCER, 1)
    group = Capture()
    template.has_resource_properties(LOAD_BALANCER, {"SecurityGroups": [group]})
    return group.as_object()


def exported(synth: Synth, reference: Mapping[str, Any], part: str | None = None) -> Any:
    """The value of the stack output that a weak reference reads (from ``part``'s
    stack, when given)."""
    target = reference["Fn::GetStackOutput"]
    assert part is None or target["StackName"] == synth.config.stack_name(part)
    return synth.templates[target["StackName"]]["Outputs"][target["OutputName"]]["Value"]


def role_statements(template: Template, role: str) -> list[Any]:
    """Statements of the inline policies attached to the task definition's ``role``
    (``ExecutionRoleArn`` or ``TaskRoleArn``)."""
    arn = Capture()
    template.has_resource_properties(TASK, {role: {"Fn::GetAtt": [arn, "Arn"]}})
    attached = {"Properties": {"Roles": Match.array_with([{"Ref": arn.as_string()}])}}
    return [statement for policy in template.find_resources(POLICY, attached).values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]  # fmt: skip
