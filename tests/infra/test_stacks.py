"""Each synthesized stack of each environment follows its YAML."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import Synth

SERVICE = "AWS::ECS::Service"
TASK = "AWS::ECS::TaskDefinition"
INGRESS = "AWS::EC2::SecurityGroupIngress"


def container(synth: Synth, name: str) -> dict[str, Any]:
    (definition,) = synth.one(name, TASK)["ContainerDefinitions"]
    assert definition["Name"] == name
    return definition  # type: ignore[no-any-return]


def test_stack_names(synth: Synth) -> None:
    cfg = synth.config
    expected = {f"{cfg.app}-{cfg.env}-{part}" for part in ("network", "cluster", *cfg.services)}
    assert set(synth.templates) == expected
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
    for stack in synth.stacks.all():
        annotations = Annotations.from_stack(stack)
        assert annotations.find_warning("*", Match.any_value()) == [], stack.stack_name
        assert annotations.find_error("*", Match.any_value()) == [], stack.stack_name
    assert "dummy" not in json.dumps(synth.templates)


def test_network_follows_config(synth: Synth) -> None:
    net = synth.config.network
    assert synth.one("network", "AWS::EC2::VPC")["CidrBlock"] == net.cidr
    assert len(synth.resources("network", "AWS::EC2::NatGateway")) == net.nat_gateways
    subnets = synth.resources("network", "AWS::EC2::Subnet")
    public = [s for s in subnets.values() if s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(subnets) == 2 * net.max_azs and len(public) == net.max_azs
    flow = synth.one("network", "AWS::EC2::FlowLog")
    assert flow["TrafficType"] == "ALL" and flow["LogDestinationType"] == "cloud-watch-logs"
    (group,) = synth.resources("network", "AWS::Logs::LogGroup").values()
    assert group["Properties"]["RetentionInDays"] == synth.config.logging.retention_days


def test_cluster_follows_config(synth: Synth) -> None:
    cluster = synth.one("cluster", "AWS::ECS::Cluster")
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]
    namespace = synth.one("cluster", "AWS::ServiceDiscovery::PrivateDnsNamespace")
    assert namespace["Name"] == synth.config.cluster.namespace


def test_termination_protection_where_asked(synth: Synth) -> None:
    protect = synth.config.termination_protection
    assert synth.config.env != "prod" or protect
    assert synth.stacks.network.termination_protection is protect
    assert synth.stacks.cluster.termination_protection is protect


def test_task_sizes_ports_and_logs_follow_config(synth: Synth) -> None:
    logging = synth.config.logging
    for name, svc in synth.config.services.items():
        task = synth.one(name, TASK)
        assert (task["Cpu"], task["Memory"]) == (str(svc.cpu), str(svc.memory))
        assert task["RequiresCompatibilities"] == ["FARGATE"]
        assert task["NetworkMode"] == "awsvpc"
        box = container(synth, name)
        assert box["PortMappings"][0]["ContainerPort"] == svc.port
        assert box["LogConfiguration"]["LogDriver"] == "awslogs"
        (group,) = synth.resources(name, "AWS::Logs::LogGroup").values()
        assert group["Properties"]["RetentionInDays"] == logging.retention_days
        assert group["DeletionPolicy"] == logging.removal_policy.value.capitalize().replace(
            "Destroy", "Delete"
        )


def test_health_checks(synth: Synth) -> None:
    # A string in config runs through the shell (it reads the password variable).
    assert container(synth, "backend")["HealthCheck"]["Command"] == [
        "CMD-SHELL",
        'REDISCLI_AUTH="$BACKEND_PASSWORD" redis-cli ping | grep -q PONG',
    ]
    check = container(synth, "frontend")["HealthCheck"]
    assert check["Command"] == ["CMD", "python", "/app/healthcheck.py"]
    group = synth.one("frontend", "AWS::ElasticLoadBalancingV2::TargetGroup")
    public = synth.config.services["frontend"].public
    assert public is not None
    assert group["HealthCheckPath"] == public.health_check_path
    assert group["Port"] == 5000 and group["TargetType"] == "ip"


def test_services_run_private_with_safe_deployments(synth: Synth) -> None:
    for name, svc in synth.config.services.items():
        props = synth.one(name, SERVICE)
        network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        subnet_outputs = [s["Fn::GetStackOutput"]["OutputName"] for s in network["Subnets"]]
        assert subnet_outputs and all("PrivateSubnet" in o for o in subnet_outputs)
        deployment = props["DeploymentConfiguration"]
        assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
        expected = (0, 100) if svc.stateful else (100, 200)
        assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == expected
        if svc.autoscaling:
            assert "DesiredCount" not in props
        else:
            assert props["DesiredCount"] == svc.desired_count
        assert len(props["ServiceRegistries"]) == 1
        discovery = synth.one(name, "AWS::ServiceDiscovery::Service")
        assert discovery["Name"] == name


def test_backend_is_stateful_single_task(synth: Synth) -> None:
    props = synth.one("backend", SERVICE)
    assert props["DesiredCount"] == 1
    assert props["DeploymentConfiguration"]["MinimumHealthyPercent"] == 0
    assert synth.resources("backend", "AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_consumer_gets_peer_name_and_port(synth: Synth) -> None:
    env = {e["Name"]: e["Value"] for e in container(synth, "frontend")["Environment"]}
    assert env == {
        "PORT": "5000",
        "BACKEND_HOST": f"backend.{synth.config.cluster.namespace}",
        "BACKEND_PORT": "6379",
    }


def test_backend_admits_only_frontend_on_its_port(synth: Synth) -> None:
    # The backend's own stack opens nothing ...
    assert synth.resources("backend", INGRESS) == {}
    (backend_sg,) = synth.resources("backend", "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in backend_sg["Properties"]
    # ... the frontend's stack holds the one rule into it, on 6379 from the frontend's group.
    into_backend = [
        r["Properties"]
        for r in synth.resources("frontend", INGRESS).values()
        if "Fn::GetStackOutput" in r["Properties"]["GroupId"]
    ]
    assert len(into_backend) == 1
    rule = into_backend[0]
    assert rule["GroupId"]["Fn::GetStackOutput"]["StackName"] == synth.config.stack_name("backend")
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 6379, 6379)
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": ["SecurityGroupDD263621", "GroupId"]}


def test_only_the_load_balancer_reaches_the_frontend(synth: Synth) -> None:
    groups = synth.resources("frontend", "AWS::EC2::SecurityGroup")
    lb_group = next(k for k in groups if k.startswith("Public"))
    into_tasks = [
        r["Properties"]
        for r in synth.resources("frontend", INGRESS).values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["SecurityGroupDD263621", "GroupId"]}
    ]
    assert into_tasks == [
        {
            "Description": "Load balancer to target",
            "FromPort": 5000,
            "ToPort": 5000,
            "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": ["SecurityGroupDD263621", "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [lb_group, "GroupId"]},
        }
    ]
    open_rules = groups[lb_group]["Properties"]["SecurityGroupIngress"]
    assert open_rules == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "the internet to the listener",
            "FromPort": 80,
            "ToPort": 80,
            "IpProtocol": "tcp",
        }
    ]


def test_no_internet_ingress_except_the_listener(synth: Synth) -> None:
    for stack_name, body in synth.templates.items():
        for logical_id, resource in body["Resources"].items():
            props = resource.get("Properties", {})
            rules = (
                props.get("SecurityGroupIngress", [])
                if resource["Type"].endswith("SecurityGroup")
                else [props]
                if resource["Type"] == INGRESS
                else []
            )
            for rule in rules:
                if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
                    assert logical_id.startswith("PublicSecurityGroup"), (stack_name, logical_id)
                    assert rule["FromPort"] == 80


def test_public_url_output(synth: Synth) -> None:
    outputs = synth.templates[synth.config.stack_name("frontend")]["Outputs"]
    assert "Url" in outputs
    assert "Url" not in synth.templates[synth.config.stack_name("backend")].get("Outputs", {})
    lb = synth.one("frontend", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert lb["Scheme"] == "internet-facing" and lb["Type"] == "application"
    listener = synth.one("frontend", "AWS::ElasticLoadBalancingV2::Listener")
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")


def test_autoscaling_follows_config(synth: Synth) -> None:
    scaling = synth.config.services["frontend"].autoscaling
    targets = synth.resources("frontend", "AWS::ApplicationAutoScaling::ScalableTarget")
    if scaling is None:
        assert targets == {}
        return
    (target,) = targets.values()
    assert target["Properties"]["MinCapacity"] == scaling.min
    assert target["Properties"]["MaxCapacity"] == scaling.max
    policy = synth.one("frontend", "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == scaling.cpu_percent
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )


def test_prod_differs_from_dev_as_the_yaml_says(synths: dict[str, Synth]) -> None:
    dev, prod = synths["dev"], synths["prod"]
    assert len(dev.resources("network", "AWS::EC2::NatGateway")) == 1
    assert len(prod.resources("network", "AWS::EC2::NatGateway")) == 2
    assert dev.one("frontend", TASK)["Cpu"] == "256" and prod.one("frontend", TASK)["Cpu"] == "512"
    assert dev.one("frontend", SERVICE)["DesiredCount"] == 1
    (dev_logs,) = dev.resources("backend", "AWS::Logs::LogGroup").values()
    (prod_logs,) = prod.resources("backend", "AWS::Logs::LogGroup").values()
    assert (dev_logs["DeletionPolicy"], prod_logs["DeletionPolicy"]) == ("Delete", "Retain")
    assert (
        dev_logs["Properties"]["RetentionInDays"],
        prod_logs["Properties"]["RetentionInDays"],
    ) == (7, 90)
