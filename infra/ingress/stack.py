"""IngressStack: the one application load balancer several public services share."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.config import LoggingConfig, PublicConfig
from infra.logs import give_functions_log_groups
from infra.services.alb import application_load_balancer
from infra.services.exposure import listeners_of, open_security_group

# What the shared listener answers a request no service's rule matches.
NOT_FOUND = elbv2.ListenerAction.fixed_response(
    404, content_type="text/plain", message_body="no service here"
)


class IngressStack(Stack):
    """The env's shared application load balancer, its listeners and access logs.

    Made when some service sets ``public.host`` or ``public.path``; each such
    service adds its own target group and listener rule in its own stack
    (:class:`infra.services.shared.SharedEndpoint`), so this stack deploys
    before them and never refers to them: adding or removing a service
    changes only that service's stack. ``config`` is the load balancer's
    settings (listener port, certificate, deletion protection), which the
    sharing services agree on (the config rules check). The serving listener
    answers 404 to a request no rule matches.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: PublicConfig,
        logging: LoggingConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        # Under "Public", as a service's own load balancer is: the same construct
        # paths, so the same accepted exceptions (security/checkov-skips.yaml) apply.
        public = Construct(self, "Public")
        self.security_group: ec2.ISecurityGroup = open_security_group(
            public, vpc, listeners_of(config)
        )
        self.load_balancer, self.listener = application_load_balancer(
            public, vpc=vpc, security_group=self.security_group, config=config, logging=logging,
            default_action=NOT_FOUND,
        )  # fmt: skip
        if config.certificate_arn is None:
            Annotations.of(self).add_info(
                "the shared load balancer serves plain HTTP; set public.certificate_arn "
                "on the services that share it for HTTPS"
            )
        CfnOutput(self, "DnsName", value=self.load_balancer.load_balancer_dns_name,
                  description="The shared load balancer's DNS name")  # fmt: skip
        # CDK's handler that empties the access-log bucket logs like the services.
        give_functions_log_groups(self, logging)
