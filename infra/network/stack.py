"""NetworkStack: the VPC every other stack runs in."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.config import LoggingConfig, NetworkConfig
from infra.logs import configured_log_group, give_functions_log_groups

# Where file systems go, and tasks when the VPC has NAT: no route in from the
# internet; out through NAT, or nowhere without it (by name: the type differs).
PRIVATE = "Private"
PRIVATE_SUBNETS = ec2.SubnetSelection(subnet_group_name=PRIVATE)
# Where load balancers and NAT gateways go, and tasks when the VPC has no NAT.
PUBLIC_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)


class NetworkStack(Stack):
    """A VPC with public subnets (load balancers, NAT) and private subnets (tasks).

    NAT gateways give the private tasks egress to pull images and reach AWS
    APIs; flow logs go to CloudWatch with the environment's retention. With
    ``nat_gateways: 0`` the private subnets have no route out (file systems
    stay there) and tasks run in the public subnets with public IPs
    (``public_placement``). An S3 gateway endpoint, which costs nothing, serves
    the image layers ECR keeps in S3 without NAT data processing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        logging: LoggingConfig,
        availability_zones: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        zones = availability_zones[: config.max_azs] if availability_zones else None
        # Tasks need a way out (images, logs, secrets): NAT, or public IPs.
        self.public_placement = config.nat_gateways == 0
        private = (
            ec2.SubnetType.PRIVATE_ISOLATED
            if self.public_placement
            else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        self.vpc: ec2.IVpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.cidr),
            max_azs=None if zones else config.max_azs,
            availability_zones=zones,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                # Load balancers and NAT gateways get their addresses explicitly;
                # nothing launched here should get a public IP by accident.
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, map_public_ip_on_launch=False
                ),
                # The same name either way: the subnets stay, only their route out goes.
                ec2.SubnetConfiguration(name=PRIVATE, subnet_type=private),
            ],
        )
        self.vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
        if self.public_placement:
            Annotations.of(self).add_info(
                "network.nat_gateways is 0: tasks run in the public subnets with public IPs; "
                "their security groups still admit only the load balancer and their peers"
            )
        if config.flow_logs:
            self.vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                    configured_log_group(self, "FlowLogGroup", logging)
                ),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
        give_functions_log_groups(self, logging)
