"""Each synthesized stack of each environment follows its YAML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from aws_cdk.assertions import Capture, Match
from aws_cdk.cx_api import SynthesisMessageLevel
from botocore.loaders import create_loader

from infra.config import injected
from tests.infra.conftest import VARIANTS, Synth, Variants
from tests.infra.templates import (
    DELETION_POLICY,
    DISCOVERY,
    GROUP,
    INGRESS,
    LISTENER,
    LOAD_BALANCER,
    LOG_GROUP,
    NAT,
    SCALABLE_TARGET,
    SCALING_POLICY,
    SERVICE,
    SUBNET,
    TARGET_GROUP,
    TASK,
    container,
    exported,
    load_balancer_group,
    task_group,
)


def test_stack_names(synth: Synth) -> None:
    cfg = synth.config
    storage = ("storage",) if cfg.volume_names() else ()
    parts = ("network", "cluster", *storage, *cfg.services, "dashboard")
    expected = {f"{cfg.app}-{cfg.env}-{part}" for part in parts}
    assert set(synth.templates) == expected
    assert {cfg.stack_name(part) for part in cfg.stack_parts()} == expected
    assert {a.stack_name for a in synth.assembly.stacks} == expected


def test_stack_dependency_graph(synth: Synth) -> None:
    name = synth.config.stack_name

    def deps(part: str) -> set[str]:
        artifacts = synth.assembly.get_stack_by_name(name(part)).dependencies
        return {d.id for d in artifacts if not d.id.endswith(".assets")}  # stacks only

    assert deps("network") == set()
    assert deps("cluster") == {name("network")}
    assert name("cluster") in deps("backend")
    assert name("backend") in deps("frontend")
    assert name("frontend") not in deps("backend")


def test_weak_references_only(synth: Synth) -> None:
    text = json.dumps(synth.templates)
    assert "Fn::ImportValue" not in text
    assert "Export" not in text
    assert "Fn::GetStackOutput" in text


def test_no_warnings_or_dummy_zones(synth: Synth) -> None:
    # The synthesized assembly carries every annotation (what Annotations.from_stack
    # reads, without synthesizing the app again for each stack).
    loud = {SynthesisMessageLevel.WARNING, SynthesisMessageLevel.ERROR}
    for stack in synth.assembly.stacks:
        messages = [(m.id, m.entry.data) for m in stack.messages if m.level in loud]
        assert messages == [], stack.stack_name
    assert "dummy" not in json.dumps(synth.templates)


def commercial_regions() -> list[str]:
    """Every region of the commercial partition, from botocore's partition data
    (maintained by AWS; ``aws-global`` is an endpoint alias, not a region)."""
    partitions = create_loader().load_data("partitions")["partitions"]
    aws = next(p for p in partitions if p["id"] == "aws")
    return [r for r in aws["regions"] if re.fullmatch(aws["regionRegex"], r)]


COMMERCIAL_REGIONS = commercial_regions()


def map_lookups(node: Any) -> Iterator[list[Any]]:
    """The arguments of every ``Fn::FindInMap`` in a template fragment."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::FindInMap":
                yield value
            yield from map_lookups(value)
    elif isinstance(node, list):
        for item in node:
            yield from map_lookups(item)


def lookup_fails(template: dict[str, Any], lookup: list[Any], region: str) -> bool:
    """Whether CloudFormation, deploying in ``region``, fails to resolve ``lookup``.

    It resolves a lookup even in the branch of an ``Fn::If`` it does not take,
    so a region-keyed key missing from its mapping fails the whole deploy,
    unless the lookup has a ``DefaultValue``.
    """
    name, top, second, *options = lookup
    if any("DefaultValue" in option for option in options):
        return False
    keys = [region if key == {"Ref": "AWS::Region"} else key for key in (top, second)]
    assert all(isinstance(key, str) for key in keys), f"unexpected key in {lookup}"
    return keys[1] not in template["Mappings"][name].get(keys[0], {})


def test_region_keyed_lookups_resolve_in_every_commercial_region(
    synths: dict[str, Synth], variants: Variants
) -> None:
    assert len(COMMERCIAL_REGIONS) >= 36 and "eu-central-2" in COMMERCIAL_REGIONS
    apps = [*synths.values(), *(variants[name] for name in VARIANTS)]
    failing = {
        (stack, region)
        for app in apps
        for stack, template in app.templates.items()
        for lookup in map_lookups(template.get("Resources", {}))
        for region in COMMERCIAL_REGIONS
        if lookup_fails(template, lookup, region)
    }
    assert not failing, sorted(failing)[:5]


def test_network_follows_config(synth: Synth) -> None:
    net = synth.config.network
    network = synth.template("network")
    network.resource_count_is("AWS::EC2::VPC", 1)
    network.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": net.cidr})
    network.resource_count_is(NAT, net.nat_gateways)
    network.resource_count_is(SUBNET, 2 * net.max_azs)
    # No subnet hands out public IPs (CT.EC2.PR.11); load balancers and NAT get theirs explicitly.
    network.resource_properties_count_is(SUBNET, {"MapPublicIpOnLaunch": False}, 2 * net.max_azs)
    network.resource_count_is("AWS::EC2::FlowLog", 1)
    group = Capture()
    network.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
         "LogGroupName": {"Ref": group}},
    )  # fmt: skip
    assert group.as_string() in network.find_resources(LOG_GROUP)


def test_cluster_follows_config(synth: Synth) -> None:
    cluster = synth.template("cluster")
    cluster.resource_count_is("AWS::ECS::Cluster", 1)
    cluster.has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": Match.exact([{"Name": "containerInsights", "Value": "enabled"}])},
    )
    namespace = "AWS::ServiceDiscovery::PrivateDnsNamespace"
    cluster.resource_count_is(namespace, 1)
    cluster.has_resource_properties(namespace, {"Name": synth.config.cluster.namespace})


def test_termination_protection_where_asked(synth: Synth) -> None:
    protect = synth.config.termination_protection
    assert synth.config.env != "prod" or protect
    assert synth.stacks.network.termination_protection is protect
    assert synth.stacks.cluster.termination_protection is protect
    # Deleting a stateful service's stack deletes its data; stateless ones stay deletable.
    for name, stack in synth.stacks.services.items():
        stateful = synth.config.services[name].stateful
        assert stack.termination_protection is (protect and stateful), name
    # A managed engine's stack holds data too (prod's Valkey; dev's Redis is a container).
    for name, managed in synth.stacks.managed.items():
        assert managed.termination_protection is protect, name
    backend = synth.stacks.managed.get("backend") or synth.stacks.services["backend"]
    assert backend.termination_protection is protect


def test_task_sizes_ports_and_logs_follow_config(synth: Synth) -> None:
    for name, svc in synth.containers().items():
        template = synth.template(name)
        template.has_resource_properties(
            TASK,
            {"Cpu": str(svc.cpu), "Memory": str(svc.memory),
             "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc"},
        )  # fmt: skip
        group = Capture()
        container(
            template,
            name,
            PortMappings=[{"ContainerPort": svc.port}],
            LogConfiguration={"LogDriver": "awslogs", "Options": {"awslogs-group": {"Ref": group}}},
        )
        assert group.as_string() in template.find_resources(LOG_GROUP), name


def test_every_log_group_is_kept_encrypted_and_removed_as_configured(
    synths: dict[str, Synth], variants: Variants
) -> None:
    """Flow logs, container logs, Container Insights and CDK's custom-resource Lambdas:
    nothing the app causes logs to a group with CloudWatch's defaults (kept forever,
    left behind by a destroy)."""
    for app in [*synths.values(), *(variants[name] for name in VARIANTS)]:
        logging = app.config.logging
        for stack, template in app.templates.items():
            resources = template["Resources"]
            groups = {k: v for k, v in resources.items() if v["Type"] == LOG_GROUP}
            # The cluster stack's other key is the alarm topic's.
            keys = [k for k, v in resources.items()
                    if v["Type"] == "AWS::KMS::Key" and k.startswith("LogsKey")]  # fmt: skip
            for logical_id, group in groups.items():
                assert group["Properties"]["RetentionInDays"] == logging.retention_days, logical_id
                assert group["DeletionPolicy"] == DELETION_POLICY[logging.removal_policy]
                # The stack's own key: Control Tower's CT.CLOUDWATCH.PR.3 sees local references only.
                assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [*keys, "Arn"]}, stack
            # Each function logs into a group of the stack, which so is made before it runs.
            for logical_id, function in resources.items():
                if function["Type"] == "AWS::Lambda::Function":
                    target = function["Properties"]["LoggingConfig"]["LogGroup"]
                    assert target["Ref"] in groups, (stack, logical_id)
        cluster = app.template("cluster")
        cluster.has_resource_properties(LOG_GROUP, {"LogGroupName": {"Fn::Join": ["", [
            "/aws/ecs/containerinsights/", {"Ref": Match.any_value()}, "/performance"]]}})  # fmt: skip


def test_health_checks(synth: Synth) -> None:
    # A string in config runs through the shell (it reads the password variable).
    backend_check = ["CMD-SHELL",
                     'REDISCLI_AUTH="$BACKEND_PASSWORD" redis-cli -p "$PORT" ping | grep -q PONG']  # fmt: skip
    if "backend" in synth.containers():  # prod's is managed Valkey: AWS watches its health
        container(synth.template("backend"), "backend", HealthCheck={"Command": backend_check})
    frontend = synth.template("frontend")
    frontend_check = ["CMD", "python", "/app/healthcheck.py"]
    container(frontend, "frontend", HealthCheck={"Command": frontend_check})
    public = synth.config.services["frontend"].public
    assert public is not None
    # Two when ECS shifts traffic between them (prod's canary); both check the same path.
    groups = 2 if synth.config.services["frontend"].deployment.strategy.shifts_traffic else 1
    frontend.resource_properties_count_is(
        TARGET_GROUP,
        {"HealthCheckPath": public.health_check_path, "Port": 5000, "TargetType": "ip"},
        groups,
    )
    frontend.resource_count_is(TARGET_GROUP, groups)


def test_services_run_where_the_network_places_them_with_safe_deployments(
    synth: Synth,
) -> None:
    """Private subnets behind NAT; without NAT (dev) public subnets with public IPs."""
    public = synth.config.network.nat_gateways == 0
    kind = "Public" if public else "Private"
    placed_in = synth.template("network").find_resources(SUBNET, {"Properties": {
        "Tags": Match.array_with([{"Key": "aws-cdk:subnet-type", "Value": kind}])}})  # fmt: skip
    for name, svc in synth.containers().items():
        template = synth.template(name)
        template.resource_count_is(SERVICE, 1)
        subnets = Capture()
        minimum, maximum = (0, 100) if svc.stateful else (100, 200)
        template.has_resource_properties(SERVICE, {
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "AssignPublicIp": "ENABLED" if public else "DISABLED", "Subnets": subnets}},
            "DeploymentConfiguration": {
                "DeploymentCircuitBreaker": Match.exact({"Enable": True, "Rollback": True}),
                "MinimumHealthyPercent": minimum,
                "MaximumPercent": maximum,
            },
            "DesiredCount": Match.absent() if svc.autoscaling else svc.desired_count,
            "ServiceRegistries": [Match.any_value()],
        })  # fmt: skip
        # Every subnet of that kind in the network stack, and only those.
        placed = [exported(synth, s, "network")["Ref"] for s in subnets.as_array()]
        assert sorted(placed) == sorted(placed_in), name
        template.resource_count_is(DISCOVERY, 1)
        template.has_resource_properties(DISCOVERY, {"Name": name})


def test_backend_is_stateful_single_task(synths: dict[str, Synth]) -> None:
    """Dev's Redis container (prod's backend is managed: tests/infra/test_managed.py)."""
    backend = synths["dev"].template("backend")
    backend.resource_count_is(SERVICE, 1)
    backend.has_resource_properties(
        SERVICE, {"DesiredCount": 1, "DeploymentConfiguration": {"MinimumHealthyPercent": 0}}
    )
    backend.resource_count_is(SCALABLE_TARGET, 0)


def test_consumer_gets_peer_name_and_port(synth: Synth) -> None:
    box = container(synth.template("frontend"), "frontend")
    # A mapping: the order of the variables does not matter.
    env = {e["Name"]: e["Value"] for e in box["Environment"]}
    managed = "backend" not in synth.containers()
    # A managed Valkey's endpoint (its own DNS name, TLS only), or the Cloud Map name.
    host = exported(synth, env["BACKEND_HOST"], "backend") if managed else env["BACKEND_HOST"]
    assert host == (
        {"Fn::GetAtt": [next(iter(synth.template("backend").find_resources(
            "AWS::ElastiCache::ServerlessCache"))), "Endpoint.Address"]}
        if managed else f"backend.{synth.config.cluster.namespace}"
    )  # fmt: skip
    assert env.pop("BACKEND_TLS", None) == ("true" if managed else None)
    assert env == {
        "PORT": "5000",
        "BACKEND_HOST": env["BACKEND_HOST"],
        "BACKEND_PORT": "6379",
        # The only Host the app answers besides its own address: the load balancer's.
        "ALLOWED_HOSTS": {"Fn::GetAtt": [
            next(iter(synth.template("frontend").find_resources(LOAD_BALANCER))), "DNSName"]},
    }  # fmt: skip


def test_tasks_reach_out_only_to_https_and_their_peers(
    synths: dict[str, Synth], variants: Variants
) -> None:
    for app in [*synths.values(), variants["worker"]]:
        for name, service in app.containers().items():
            template = app.template(name)
            group = task_group(template)["Fn::GetAtt"][0]
            inline = template.find_resources(GROUP)[group]["Properties"]["SecurityGroupEgress"]
            assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]) for r in inline] == [
                ("tcp", 443, 443, "0.0.0.0/0")], (app.config.env, name)  # fmt: skip
            separate = template.find_resources(
                "AWS::EC2::SecurityGroupEgress", {"Properties": {"GroupId": {"Fn::GetAtt": [group, "GroupId"]}}})  # fmt: skip
            reached = sorted(((r["FromPort"], r["ToPort"], exported(app, r["DestinationSecurityGroupId"]))
                              for r in (e["Properties"] for e in separate.values())), key=str)  # fmt: skip
            expected = sorted((app.config.services[p].endpoint_port, app.config.services[p].endpoint_port,
                               peer_group(app, p)) for p in service.connects_to)  # fmt: skip
            # NFS to each volume it mounts, into that volume's mount targets' group.
            storage = app.template("storage") if service.volumes else None
            for volume in service.volumes:
                (group_id,) = storage.find_resources(GROUP, {"Properties": {  # type: ignore[union-attr]
                    "GroupDescription": f"{volume} volume: NFS from the services that mount it"}})  # fmt: skip
                expected.append((2049, 2049, {"Fn::GetAtt": [group_id, "GroupId"]}))
            assert reached == sorted(expected, key=str), (app.config.env, name)


def test_backend_admits_only_frontend_on_its_port(synth: Synth) -> None:
    backend, frontend = synth.template("backend"), synth.template("frontend")
    # The backend's own stack opens nothing into its own group (a container's one rule
    # is into its volume's group, in the storage stack; a managed engine has none) ...
    own = {"Fn::GetAtt": [Match.string_like_regexp("^SecurityGroup"), "GroupId"]}
    backend.resource_properties_count_is(INGRESS, {"GroupId": own}, 0)
    volumes = 1 if "backend" in synth.containers() else 0
    backend.resource_properties_count_is(INGRESS, {"FromPort": 2049, "ToPort": 2049}, volumes)
    backend.resource_count_is(GROUP, 1)
    backend.has_resource_properties(GROUP, {"SecurityGroupIngress": Match.absent()})
    # ... the frontend's stack holds the one rule into another stack's group: into the
    # backend's tasks, on 6379, from the frontend's tasks.
    imported = {"Fn::GetStackOutput": Match.any_value()}
    frontend.resource_properties_count_is(INGRESS, {"GroupId": imported}, 1)
    into = Capture(imported)
    frontend.has_resource_properties(INGRESS, {
        "GroupId": into, "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
        "SourceSecurityGroupId": task_group(frontend),
    })  # fmt: skip
    assert exported(synth, into.as_object(), "backend") == peer_group(synth, "backend")


def test_only_the_load_balancer_reaches_the_frontend(synth: Synth) -> None:
    frontend = synth.template("frontend")
    tasks, balancer = task_group(frontend), load_balancer_group(frontend)
    frontend.resource_properties_count_is(INGRESS, {"GroupId": tasks}, 1)
    frontend.has_resource_properties(INGRESS, Match.object_equals({
        "Description": "Load balancer to target",
        "FromPort": 5000,
        "ToPort": 5000,
        "IpProtocol": "tcp",
        "GroupId": tasks,
        "SourceSecurityGroupId": balancer,
    }))  # fmt: skip
    # One group has rules of its own: the load balancer's, open on the listener port.
    frontend.resource_properties_count_is(GROUP, {"SecurityGroupIngress": Match.any_value()}, 1)
    listener_open = Match.exact([{
        "CidrIp": "0.0.0.0/0",
        "Description": "the internet to the listener",
        "FromPort": 80,
        "ToPort": 80,
        "IpProtocol": "tcp",
    }])  # fmt: skip
    opened = frontend.find_resources(GROUP, {"Properties": {"SecurityGroupIngress": listener_open}})
    assert [{"Fn::GetAtt": [group, "GroupId"]} for group in opened] == [balancer]


def test_no_internet_ingress_except_the_listener(synth: Synth) -> None:
    for stack_name, body in synth.templates.items():
        resources = body["Resources"]
        balancer_groups = {
            group["Fn::GetAtt"][0]
            for resource in resources.values()
            if resource["Type"] == LOAD_BALANCER
            for group in resource["Properties"].get("SecurityGroups", [])
        }
        for logical_id, resource in resources.items():
            props = resource.get("Properties", {})
            if resource["Type"].endswith("SecurityGroup"):
                group, rules = logical_id, props.get("SecurityGroupIngress", [])
            elif resource["Type"] == INGRESS:
                group, rules = props["GroupId"].get("Fn::GetAtt", [None])[0], [props]
            else:
                continue
            for rule in rules:
                if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
                    assert group in balancer_groups, (stack_name, logical_id)
                    assert rule["FromPort"] == 80


def test_public_url_output(synth: Synth) -> None:
    frontend, backend = synth.template("frontend"), synth.template("backend")
    (balancer,) = frontend.find_resources(LOAD_BALANCER)
    dns_name = {"Fn::GetAtt": [balancer, "DNSName"]}
    frontend.has_output(
        "Url", {"Value": {"Fn::Join": ["", Match.array_with(["http://", dns_name])]}}
    )
    assert backend.find_outputs("Url") == {}
    frontend.resource_count_is(LOAD_BALANCER, 1)
    frontend.has_resource_properties(
        LOAD_BALANCER, {"Scheme": "internet-facing", "Type": "application"}
    )
    frontend.resource_count_is(LISTENER, 1)
    frontend.has_resource_properties(LISTENER, {"Port": 80, "Protocol": "HTTP"})


def test_autoscaling_follows_config(synth: Synth) -> None:
    scaling = synth.config.services["frontend"].autoscaling
    frontend = synth.template("frontend")
    if scaling is None:
        frontend.resource_count_is(SCALABLE_TARGET, 0)
        return
    frontend.resource_count_is(SCALABLE_TARGET, 1)
    frontend.has_resource_properties(
        SCALABLE_TARGET, {"MinCapacity": scaling.min, "MaxCapacity": scaling.max}
    )
    (target,) = frontend.find_resources(SCALABLE_TARGET)
    frontend.resource_count_is(SCALING_POLICY, 1)
    frontend.has_resource_properties(SCALING_POLICY, {
        "ScalingTargetId": {"Ref": target},
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": scaling.cpu_percent,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        },
    })  # fmt: skip


def peer_group(synth: Synth, name: str) -> Any:
    """The security group consumers of ``name`` reach: its tasks', or its managed engine's."""
    if name in synth.containers():
        return task_group(synth.template(name))
    (group,) = synth.template(name).find_resources(GROUP)
    return {"Fn::GetAtt": [group, "GroupId"]}


def test_prod_differs_from_dev_as_the_yaml_says(synths: dict[str, Synth]) -> None:
    dev, prod = synths["dev"], synths["prod"]
    dev.template("network").resource_count_is(NAT, 0)
    prod.template("network").resource_count_is(NAT, 2)
    # Every frontend task of dev on Spot; prod's first one on demand.
    dev.template("frontend").has_resource_properties(SERVICE, {"CapacityProviderStrategy": [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]})  # fmt: skip
    prod.template("frontend").has_resource_properties(SERVICE, {"CapacityProviderStrategy": [
        {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]})  # fmt: skip
    prod.template("frontend").has_resource_properties(SCALABLE_TARGET, {"MaxCapacity": 16})
    dev.template("frontend").has_resource_properties(SERVICE, {"DesiredCount": 1})
    dev.template("backend").has_resource(
        LOG_GROUP, {"DeletionPolicy": "Delete", "Properties": {"RetentionInDays": 365}}
    )
    prod.template("frontend").has_resource(
        LOG_GROUP, {"DeletionPolicy": "Retain", "Properties": {"RetentionInDays": 365}}
    )
    # Redis: a container on a volume in dev, ElastiCache Serverless for Valkey in prod.
    dev.template("backend").resource_count_is(SERVICE, 1)
    prod.template("backend").resource_count_is(SERVICE, 0)
    prod.template("backend").resource_count_is("AWS::ElastiCache::ServerlessCache", 1)


def test_injected_variables_are_the_reserved_ones(synth: Synth) -> None:
    """What the wiring sets in a container is what the config rules keep users from setting."""
    for name, svc in synth.containers().items():
        box = container(synth.template(name), name)
        set_here = {e["Name"] for e in [*box.get("Environment", []), *box.get("Secrets", [])]}
        assert set_here - set(svc.environment) <= injected(name, svc).names(), name
        assert injected(name, svc).port in set_here
