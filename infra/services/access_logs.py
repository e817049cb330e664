"""AccessLogBucket: where a load balancer writes its access logs."""

from __future__ import annotations

from aws_cdk import Aws, CfnCondition, CfnMapping, Duration, Fn, Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import LoggingConfig, Removal
from infra.logs import removal_policy

# Regions launched from August 2022 on deliver through this service principal;
# older ones through a per-region Elastic Load Balancing account.
LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"
# FindInMap's answer in regions without an ELB account; never used, as the
# LegacyElbRegion condition sends those regions to the other branch.
NOT_LEGACY = "none"
# Fn::Or takes at most 10 conditions.
OR_LIMIT = 10


class AccessLogBucket(Construct):
    """A private, encrypted S3 bucket that only accepts TLS and forgets after the retention.

    Encryption is SSE-S3 because load balancer log delivery cannot use a KMS
    key. Objects expire after the environment's log retention, like the log
    groups. With ``removal_policy: destroy`` the bucket is emptied and deleted
    with its stack (through CDK's auto-delete custom resource); otherwise it
    stays behind with its logs.
    """

    def __init__(self, scope: Construct, construct_id: str, *, logging: LoggingConfig) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(logging.retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal_policy(logging),
            auto_delete_objects=logging.removal_policy is Removal.DESTROY,
            # Object Lock lets an investigation put a legal hold on the logs of
            # an incident. No default retention: log delivery's writes need none,
            # and a destroyable env must still be able to empty the bucket.
            object_lock_enabled=True,
        )
        # New log files announce themselves on the account's default EventBridge
        # bus (free), for whoever wants to react to them; set on the resource
        # directly, as CDK's event_bridge_enabled adds a custom-resource Lambda.
        resource = self.bucket.node.default_child
        assert isinstance(resource, s3.CfnBucket)
        resource.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This bucket holds access logs; logging access to it would need another "
            "bucket, and so on. Writes come only from the load balancer log service.",
        )

    def receive_from(self, load_balancer: elbv2.BaseLoadBalancer) -> None:
        """Turn on ``load_balancer``'s access logs into this bucket.

        CDK's ``log_access_logs`` needs the region at synth time to pick the
        writer; these stacks are region-agnostic, so the template picks it at
        deploy time instead: the region's ELB account where one exists (from
        CDK's region facts), the log delivery service principal elsewhere.
        """
        stack = Stack.of(self)
        legacy = {r.name: r.elbv2_account for r in RegionInfo.regions if r.elbv2_account}
        accounts = CfnMapping(
            self,
            "ElbAccounts",
            mapping={region: {"account": account} for region, account in sorted(legacy.items())},
        )
        names = sorted(legacy)
        groups = [names[i : i + OR_LIMIT] for i in range(0, len(names), OR_LIMIT)]
        in_legacy_region = CfnCondition(
            self,
            "LegacyElbRegion",
            expression=Fn.condition_or(
                *[
                    Fn.condition_or(*[Fn.condition_equals(Aws.REGION, name) for name in group])
                    for group in groups
                ]
            ),
        )
        # CloudFormation resolves Fn::FindInMap even in the branch of an Fn::If
        # it does not take, so a region missing from the mapping would fail the
        # deploy; the default (under the AWS::LanguageExtensions transform) keeps
        # the lookup valid in every region, including ones launched after this
        # synth. In those regions the condition picks this account itself,
        # which grants nothing IAM does not already; the service principal writes.
        regional_account = accounts.find_in_map(Aws.REGION, "account", NOT_LEGACY)
        elb_account = Fn.condition_if(
            in_legacy_region.logical_id,
            Fn.join("", [f"arn:{Aws.PARTITION}:iam::", regional_account, ":root"]),
            f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:root",
        ).to_string()
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                principals=[iam.ArnPrincipal(elb_account), iam.ServicePrincipal(LOG_DELIVERY)],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
            )
        )
        load_balancer.set_attribute("access_logs.s3.enabled", "true")
        load_balancer.set_attribute("access_logs.s3.bucket", self.bucket.bucket_name)
        # Logging starts only once the bucket admits the writer.
        policy = self.bucket.policy
        if policy is not None:
            load_balancer.node.add_dependency(policy)
