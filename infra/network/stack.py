"""NetworkStack: the VPC every other stack runs in."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.config import LoggingConfig, NetworkConfig
from infra.logs import configured_log_group, give_functions_log_groups

# Where tasks and file systems go: no route in from the internet, NAT out.
PRIVATE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)


class NetworkStack(Stack):
    """A VPC with public subnets (load balancers, NAT) and private subnets (tasks).

    NAT gateways give the private tasks egress to pull images and reach AWS
    APIs; flow logs go to CloudWatch with the environment's retention.
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
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ),
            ],
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
