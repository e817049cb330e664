"""Cost modes: no NAT (public placement), Fargate Spot, ARM64, one shared load balancer."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match
from aws_cdk.cx_api import SynthesisMessageLevel

from infra.config import PublicConfig
from infra.config.ingress import BAND, rule_priority
from infra.ops import cost
from infra.paths import ROOT
from infra.services.task import SPOT_STOP_SECONDS
from tests.infra.conftest import Synth, Variants
from tests.infra.templates import (
    EGRESS,
    INGRESS,
    LISTENER,
    LOAD_BALANCER,
    NAT,
    SERVICE,
    SUBNET,
    TARGET_GROUP,
    TASK,
    container,
    exported,
    load_balancer_group,
    task_group,
)

ROUTE = "AWS::EC2::Route"
ENDPOINT = "AWS::EC2::VPCEndpoint"
RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
FLOW_LOG = "AWS::EC2::FlowLog"
ASSOCIATIONS = "AWS::ECS::ClusterCapacityProviderAssociations"


# --- no NAT ----------------------------------------------------------------------------


def test_without_nat_the_private_subnets_have_no_way_out_and_tasks_go_public(
    synths: dict[str, Synth],
) -> None:
    dev = synths["dev"]
    network = dev.template("network")
    network.resource_count_is(NAT, 0)
    network.resource_count_is("AWS::EC2::EIP", 0)
    # The only default routes are the public subnets' (to the internet gateway).
    routes = network.find_resources(ROUTE, {"Properties": {"DestinationCidrBlock": "0.0.0.0/0"}})
    assert len(routes) == 2
    assert all("GatewayId" in r["Properties"] for r in routes.values())
    isolated = network.find_resources(SUBNET, {"Properties": {"Tags": Match.array_with(
        [{"Key": "aws-cdk:subnet-type", "Value": "Isolated"}])}})  # fmt: skip
    assert len(isolated) == 2
    # Public subnets still give nothing a public IP by accident (CT.EC2.PR.11): the
    # tasks' network interfaces ask for one.
    network.all_resources_properties(SUBNET, {"MapPublicIpOnLaunch": False})
    network.resource_count_is(FLOW_LOG, 1)
    said = [str(m.entry.data) for m in dev.assembly.get_stack_by_name(
        "timestamper-dev-network").messages if m.level == SynthesisMessageLevel.INFO]  # fmt: skip
    assert said == [
        "network.nat_gateways is 0: tasks run in the public subnets with public IPs; "
        "their security groups still admit only the load balancer and their peers"
    ]
    # Their security groups are unchanged by the placement: the frontend's tasks admit
    # only their load balancer, the backend's only the frontend's tasks (that rule
    # lives in the consumer's stack).
    frontend, backend = dev.template("frontend"), dev.template("backend")
    tasks = task_group(frontend)
    rules_in = {r["Properties"]["FromPort"]: r["Properties"]
                for r in frontend.find_resources(INGRESS).values()}  # fmt: skip
    assert sorted(rules_in) == [5000, 6379]
    assert rules_in[5000]["GroupId"] == tasks
    assert rules_in[5000]["SourceSecurityGroupId"] == load_balancer_group(frontend)
    assert rules_in[6379]["SourceSecurityGroupId"] == tasks
    into_backend = {"Properties": {"GroupId": task_group(backend)}}
    assert not backend.find_resources(INGRESS, into_backend)


def test_every_route_table_reaches_s3_through_the_free_gateway_endpoint(
    synths: dict[str, Synth],
) -> None:
    for synth in synths.values():
        network = synth.template("network")
        (endpoint,) = network.find_resources(ENDPOINT).values()
        props = endpoint["Properties"]
        assert props["VpcEndpointType"] == "Gateway"
        assert props["ServiceName"]["Fn::Join"][1][-1] == ".s3"
        tables = network.find_resources("AWS::EC2::RouteTable")
        assert sorted(t["Ref"] for t in props["RouteTableIds"]) == sorted(tables)


# --- Spot ------------------------------------------------------------------------------


def test_spot_tasks_stop_within_the_two_minute_notice(synths: dict[str, Synth]) -> None:
    """The stop timeout, gunicorn's graceful timeout and Spot's notice agree: the
    server finishes its requests before ECS would kill it, well within two minutes."""
    gunicorn = runpy.run_path(str(ROOT / "frontend" / "gunicorn.conf.py"))
    assert gunicorn["graceful_timeout"] < SPOT_STOP_SECONDS <= 120
    for synth in synths.values():
        synth.template("cluster").has_resource_properties(
            ASSOCIATIONS, {"CapacityProviders": ["FARGATE", "FARGATE_SPOT"]}
        )
        for name, svc in synth.containers().items():
            box = container(synth.template(name), name)
            assert box.get("StopTimeout") == (SPOT_STOP_SECONDS if svc.capacity.spot else None)
            if not svc.capacity.spot:
                # A strategy all the same, so switching Spot on and off updates it in place.
                synth.template(name).has_resource_properties(SERVICE, {
                    "LaunchType": Match.absent(),
                    "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}]})  # fmt: skip


# --- ARM64 -----------------------------------------------------------------------------


def test_arm64_sets_the_runtime_platform_and_the_image_build(variants: Variants) -> None:
    shared = variants["shared"]
    for name, arch in (("frontend", "X86_64"), ("admin", "ARM64")):
        shared.template(name).has_resource_properties(TASK, {"RuntimePlatform": {
            "CpuArchitecture": arch, "OperatingSystemFamily": "LINUX"}})  # fmt: skip
    # The built images: for the tasks' architecture, whatever the builder's.
    platforms = {}
    for name in ("frontend", "admin"):
        manifest = Path(shared.assembly.directory) / f"timestamper-prod-{name}.assets.json"
        (image,) = json.loads(manifest.read_text())["dockerImages"].values()
        platforms[name] = image["source"]["platform"]
    assert platforms == {"frontend": "linux/amd64", "admin": "linux/arm64"}
    # ARM64 on Spot: the base on demand, the rest on Spot.
    shared.template("admin").has_resource_properties(SERVICE, {"CapacityProviderStrategy": [
        {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]})  # fmt: skip


# --- one shared load balancer ---------------------------------------------------------


def test_one_load_balancer_serves_both_services_through_their_own_rules(
    synths: dict[str, Synth], variants: Variants
) -> None:
    shared = variants["shared"]
    ingress = shared.template("ingress")
    ingress.resource_count_is(LOAD_BALANCER, 1)
    ingress.has_resource_properties(LISTENER, {"Port": 80, "DefaultActions": [
        Match.object_like({"Type": "fixed-response", "FixedResponseConfig": Match.object_like(
            {"StatusCode": "404"})})]})  # fmt: skip
    ingress.has_resource_properties(LOAD_BALANCER, {"LoadBalancerAttributes": Match.array_with(
        [{"Key": "deletion_protection.enabled", "Value": "true"}])})  # fmt: skip
    listener = next(iter(ingress.find_resources(LISTENER)))
    balancer_group = load_balancer_group(ingress)["Fn::GetAtt"][0]
    # The ingress stack never refers to a service: adding one changes only its stack.
    read = re.findall(
        r'"StackName": "([^"]+)"', json.dumps(shared.templates["timestamper-prod-ingress"])
    )
    assert set(read) == {"timestamper-prod-network"}
    expected = {
        "frontend": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["www.example.com"]}}],
        "admin": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["www.example.com"]}},
                  {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}}],
    }  # fmt: skip
    for name, conditions in expected.items():
        template = shared.template(name)
        template.resource_count_is(LOAD_BALANCER, 0)
        (rule,) = template.find_resources(RULE).values()
        public = shared.config.services[name].public
        assert public is not None
        assert rule["Properties"]["Conditions"] == conditions
        assert rule["Properties"]["Priority"] == rule_priority(public)
        assert exported(shared, rule["Properties"]["ListenerArn"], "ingress") == {"Ref": listener}
        (group,) = template.find_resources(TARGET_GROUP).values()
        assert group["Properties"]["Port"] == 5000
        # Exactly one rule each way between the balancer and the tasks, on 5000, here.
        tasks = task_group(template)
        (inbound,) = template.find_resources(INGRESS, {"Properties": {"FromPort": 5000}}).values()
        assert inbound["Properties"]["GroupId"] == tasks
        assert exported(shared, inbound["Properties"]["SourceSecurityGroupId"], "ingress") == {
            "Fn::GetAtt": [balancer_group, "GroupId"]}  # fmt: skip
        (outbound,) = template.find_resources(EGRESS, {"Properties": {"FromPort": 5000}}).values()
        assert outbound["Properties"]["DestinationSecurityGroupId"] == tasks
        deps = {d.id for d in shared.assembly.get_stack_by_name(
            f"timestamper-prod-{name}").dependencies}  # fmt: skip
        assert "timestamper-prod-ingress" in deps
    frontend = container(shared.template("frontend"), "frontend")
    hosts = {e["Name"]: e["Value"] for e in frontend["Environment"]}["ALLOWED_HOSTS"]
    assert hosts == "www.example.com"
    url = shared.templates["timestamper-prod-admin"]["Outputs"]["Url"]["Value"]
    assert url == "http://www.example.com/admin/"
    # Its rule is tried before the frontend's: www.example.com/admin/ reaches admin.
    priorities = {name: next(iter(shared.template(name).find_resources(RULE).values()))[
        "Properties"]["Priority"] for name in expected}  # fmt: skip
    assert priorities["admin"] < priorities["frontend"]
    # The ingress stack deploys after the network and before the services.
    assert shared.config.stack_parts()[:3] == ["network", "cluster", "ingress"]
    # Priced once: one load balancer for two public services.
    lines = cost.by_item(cost.estimate(shared.templates, cost.Prices.load()))
    assert lines["load balancer (application)"].count == 1
    # A single public service keeps its own balancer, as before (the shipped envs).
    assert synths["prod"].stacks.ingress is None


def test_rule_priorities_put_specific_rules_first_and_depend_on_nothing_else() -> None:
    def priority(**keys: Any) -> int:
        return rule_priority(PublicConfig(**keys))

    both = priority(host="api.example.com", path="/v1/*")
    host = priority(host="api.example.com")
    long_path, short_path = priority(path="/admin/users/*"), priority(path="/*")
    assert both < host < long_path < short_path
    assert all(1 <= p <= 50000 for p in (both, host, long_path, short_path))
    assert host < BAND * 2 <= long_path
    # Deployed values: pinned, as a change renumbers rules in every env (and two rules
    # swapping numbers in one update can fail with PriorityInUse).
    assert [priority(host="www.example.com", path="/admin/*"), priority(host="www.example.com"),
            priority(path="/admin/*"), priority(path="/*")] == [15043, 29405, 47038, 47848]  # fmt: skip
    assert priority(path="/*", priority=3) == 3
    # Hosts alone spread over their whole band: 50 of them, no collision.
    hosts = {priority(host=f"app{n}.example.com") for n in range(50)}
    assert len(hosts) == 50 and all(BAND < p <= 2 * BAND for p in hosts)
