"""The service constructs on their own, each in a bare ``cdk.Stack``: the load balancer
kinds (ALB over HTTP, ALB with HTTPS, NLB) and the Fargate service's settings."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk.assertions import Annotations, Capture, Match, Template

from infra.builder import cdk_json_context
from infra.config import AutoscalingConfig, LoggingConfig, PublicConfig, ServiceConfig
from infra.paths import ROOT
from infra.services.alb import ApplicationEndpoint
from infra.services.exposure import PublicEndpoint
from infra.services.nlb import NetworkEndpoint
from infra.services.service import Service
from infra.services.task import container_image
from tests.infra.conftest import CERTIFICATE
from tests.infra.templates import GROUP, INGRESS, LISTENER, LOAD_BALANCER, SERVICE, TARGET_GROUP

PORT = 8000
LOGGING = LoggingConfig(retention_days=7)


@dataclass
class Built:
    """One bare stack holding the constructs under test, and its template."""

    stack: cdk.Stack
    template: Template


def build(
    app: cdk.App,
    name: str,
    endpoint: type[PublicEndpoint] | None = None,
    public: PublicConfig | None = None,
    **service: object,
) -> cdk.Stack:
    """A VPC, a cluster and a task, then the Service (and an endpoint) under test."""
    stack = cdk.Stack(app, name)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    namespace = servicediscovery.PrivateDnsNamespace(stack, "Ns", name="test.local", vpc=vpc)
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container("web", image=ecs.ContainerImage.from_registry("nginx"),
                       port_mappings=[ecs.PortMapping(container_port=PORT)])  # fmt: skip
    tasks = ec2.SecurityGroup(stack, "Tasks", vpc=vpc)
    settings: dict[str, object] = {"desired_count": 2, "stateful": False, "autoscaling": None,
                                   "exec_enabled": False, "port": PORT, "service_connect": False,
                                   "proxy_logs": None, **service}  # fmt: skip
    made = Service(stack, "Service", name="web", cluster=cluster, namespace=namespace,
                   task_definition=task, security_group=tasks,
                   behind_load_balancer=endpoint is not None, **settings)  # type: ignore[arg-type]  # fmt: skip
    if endpoint is not None and public is not None:
        front = endpoint(stack, "Public", vpc=vpc, service=made, container_name="web",
                         container_port=PORT, config=public, logging=LOGGING)  # fmt: skip
        cdk.CfnOutput(stack, "Url", value=front.url)
    return stack


@pytest.fixture(scope="module")
def built() -> dict[str, Built]:
    """Every case in one app, synthesized once."""
    app = cdk.App(context=cdk_json_context())
    cases = {
        "http": build(app, "Http", ApplicationEndpoint, PublicConfig(listener_port=8080,
                                                                      health_check_path="/up")),
        "https": build(app, "Https", ApplicationEndpoint, PublicConfig(
            certificate_arn=CERTIFICATE, domain_name="www.example.com")),
        # A domain without a certificate: clients use it over plain TCP.
        "nlb": build(app, "Nlb", NetworkEndpoint, PublicConfig(load_balancer="network",
                                                                listener_port=7000,
                                                                deletion_protection=True,
                                                                domain_name="tcp.example.com")),
        "stateful": build(app, "Stateful", stateful=True, desired_count=1, exec_enabled=True),
        "scaled": build(app, "Scaled", autoscaling=AutoscalingConfig(min=2, max=6, cpu_percent=50)),
    }  # fmt: skip
    return {name: Built(stack, Template.from_stack(stack)) for name, stack in cases.items()}


def group_of(template: Template, port: int) -> str:
    """The logical ID of the one security group open to the internet on ``port``."""
    found = template.find_resources(GROUP, {"Properties": {"SecurityGroupIngress": Match.array_with(
        [Match.object_like({"CidrIp": "0.0.0.0/0", "FromPort": port})])}})  # fmt: skip
    assert len(found) == 1, found
    return next(iter(found))


def test_alb_over_http(built: dict[str, Built]) -> None:
    t = built["http"].template
    t.has_resource_properties(LOAD_BALANCER, {
        "Type": "application", "Scheme": "internet-facing",
        "LoadBalancerAttributes": Match.array_with([
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "access_logs.s3.enabled", "Value": "true"}]),
    })  # fmt: skip
    t.resource_count_is(LISTENER, 1)
    t.has_resource_properties(LISTENER, {"Port": 8080, "Protocol": "HTTP",
                                         "DefaultActions": [Match.object_like({"Type": "forward"})]})  # fmt: skip
    t.has_resource_properties(TARGET_GROUP, {"Port": PORT, "TargetType": "ip",
                                             "HealthCheckPath": "/up", "Matcher": {"HttpCode": "200"}})  # fmt: skip
    balancer = group_of(t, 8080)
    rules = Capture()
    t.has_resource_properties(GROUP, {"SecurityGroupIngress": rules})
    assert [(r["FromPort"], r["Description"]) for r in rules.as_array()] == [
        (8080, "the internet to the listener")]  # fmt: skip
    url = Capture()
    t.has_output("Url", {"Value": url})
    assert (
        url.as_object()["Fn::Join"][1][0] == "http://"
        and url.as_object()["Fn::Join"][1][-1] == ":8080"
    )
    # The tasks admit the balancer's group on the container port only.
    t.has_resource_properties(INGRESS, {"FromPort": PORT, "ToPort": PORT,
                                        "SourceSecurityGroupId": {"Fn::GetAtt": [balancer, "GroupId"]}})  # fmt: skip
    info = Annotations.from_stack(built["http"].stack).find_info(
        "*", Match.string_like_regexp("plain HTTP")
    )
    assert len(info) == 1


def test_alb_with_https_redirects_and_names_the_domain(built: dict[str, Built]) -> None:
    t = built["https"].template
    t.resource_count_is(LISTENER, 2)
    t.has_resource_properties(LISTENER, {
        "Port": 443, "Protocol": "HTTPS", "Certificates": [{"CertificateArn": CERTIFICATE}],
        "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    })  # fmt: skip
    t.has_resource_properties(LISTENER, {"Port": 80, "DefaultActions": [{
        "Type": "redirect",
        "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}]})  # fmt: skip
    group_of(t, 80)
    assert group_of(t, 443) == group_of(t, 80)
    t.has_output("Url", {"Value": "https://www.example.com"})
    infos = Annotations.from_stack(built["https"].stack).find_info(
        "*", Match.string_like_regexp("plain HTTP")
    )
    assert infos == []


def test_nlb_passes_tcp_behind_a_security_group(built: dict[str, Built]) -> None:
    t = built["nlb"].template
    balancer = group_of(t, 7000)
    t.has_resource_properties(LOAD_BALANCER, {
        "Type": "network", "Scheme": "internet-facing",
        "SecurityGroups": [{"Fn::GetAtt": [balancer, "GroupId"]}],
        "LoadBalancerAttributes": Match.array_with([
            {"Key": "deletion_protection.enabled", "Value": "true"}]),
    })  # fmt: skip
    t.resource_count_is(LISTENER, 1)
    t.has_resource_properties(LISTENER, {"Port": 7000, "Protocol": "TCP"})
    t.has_output("Url", {"Value": "http://tcp.example.com:7000"})
    t.has_resource_properties(TARGET_GROUP, {"Port": PORT, "Protocol": "TCP",
                                             "HealthCheckProtocol": "HTTP", "HealthCheckPath": "/"})  # fmt: skip
    t.has_resource_properties(INGRESS, {"FromPort": PORT,
                                        "SourceSecurityGroupId": {"Fn::GetAtt": [balancer, "GroupId"]}})  # fmt: skip
    # An NLB logs only TLS listeners, which this TCP option never creates: no
    # bucket that would stay empty, no logging attribute that would do nothing.
    t.resource_count_is("AWS::S3::Bucket", 0)
    t.has_resource_properties(LOAD_BALANCER, {"LoadBalancerAttributes": Match.not_(
        Match.array_with([Match.object_like({"Key": "access_logs.s3.enabled"})]))})  # fmt: skip


@pytest.mark.parametrize(("case", "expected"), [
    ("http", {"DesiredCount": 2, "HealthCheckGracePeriodSeconds": 60,
              "DeploymentConfiguration": Match.object_like({
                  "MinimumHealthyPercent": 100, "MaximumPercent": 200,
                  "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}})}),
    ("stateful", {"DesiredCount": 1, "EnableExecuteCommand": True,
                  "HealthCheckGracePeriodSeconds": Match.absent(),
                  "DeploymentConfiguration": Match.object_like({
                      "MinimumHealthyPercent": 0, "MaximumPercent": 100})}),
    ("scaled", {"DesiredCount": Match.absent()}),
])  # fmt: skip
def test_service_deployment_settings(built: dict[str, Built], case: str, expected: dict[str, object]
                                     ) -> None:  # fmt: skip
    t = built[case].template
    t.resource_count_is(SERVICE, 1)
    t.has_resource_properties(SERVICE, {
        "LaunchType": Match.absent(), "PropagateTags": "SERVICE",
        "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
        "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({
            "AssignPublicIp": "DISABLED"})},
        "ServiceRegistries": [Match.object_like({"RegistryArn": Match.any_value()})],
        **expected,
    })  # fmt: skip


def test_autoscaling_tracks_cpu_between_the_bounds(built: dict[str, Built]) -> None:
    t = built["scaled"].template
    t.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget",
                              {"MinCapacity": 2, "MaxCapacity": 6})  # fmt: skip
    t.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "TargetTrackingScalingPolicyConfiguration": Match.object_like({
            "TargetValue": 50, "ScaleOutCooldown": 60, "ScaleInCooldown": 180})})  # fmt: skip
    for case in ("http", "stateful"):
        built[case].template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


def test_asset_hash_moves_only_when_the_image_would(tmp_path: Path) -> None:
    """A build directory becomes an image asset whose hash (and so a deploy) ignores
    caches and tests, and moves when a file of the image changes."""
    source = tmp_path / "frontend"
    shutil.copytree(ROOT / "frontend", source, ignore=shutil.ignore_patterns("__pycache__"))
    service = ServiceConfig(build=str(source), port=PORT, user="10001")

    def image() -> str:
        # CDK keeps a process-wide hash per source and outdir: start from scratch each time.
        cdk.AssetStaging.clear_asset_hash_cache()
        stack = cdk.Stack(cdk.App(context=cdk_json_context(), outdir=str(tmp_path / "out")))
        task = ecs.FargateTaskDefinition(stack, "Task")
        task.add_container("web", image=container_image(stack, service))
        (box,) = Template.from_stack(stack).to_json()["Resources"][
            stack.get_logical_id(task.node.default_child)]["Properties"]["ContainerDefinitions"]  # type: ignore[arg-type]  # fmt: skip
        return json.dumps(box["Image"])

    first = image()
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0cache")
    (source / "tests").mkdir()
    (source / "tests" / "test_local.py").write_text("def test(): pass\n")
    assert image() == first
    (source / "app.py").write_text((source / "app.py").read_text() + "\n# changed\n")
    assert image() != first
