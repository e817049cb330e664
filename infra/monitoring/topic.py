"""AlarmTopic: where every alarm of an environment sends its notifications."""

from __future__ import annotations

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import AlarmsConfig
from infra.keys import only_aws_resources_get_grants

CLOUDWATCH = "cloudwatch.amazonaws.com"


class AlarmTopic(Construct):
    """The SNS topic the env's alarms notify: ``alarms.topic_arn`` when set (an
    existing topic, whose policy is its owner's), else one made here.

    A made topic is encrypted with its own customer-managed key: CloudWatch
    cannot publish to a topic under the AWS-managed SNS key, whose policy
    cannot name it. Only CloudWatch of this account may publish, only over
    TLS. ``alarms.email`` subscribes an address; AWS mails it a link to
    confirm before anything is delivered.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: AlarmsConfig) -> None:
        super().__init__(scope, construct_id)
        if config.topic_arn is not None:
            self.topic: sns.ITopic = sns.Topic.from_topic_arn(self, "Topic", config.topic_arn)
            # An env not pinned to a region learns the mismatch at deploy: before
            # anything changes, rather than from alarms that never notify.
            region = config.topic_arn.split(":")[3]
            CfnRule(self, "TopicInThisRegion", assertions=[CfnRuleAssertion(
                assert_=Fn.condition_equals(Aws.REGION, region),
                assert_description=f"alarms.topic_arn is in {region}: CloudWatch alarms notify "
                "only topics of their own region; deploy there or use a topic of this region",
            )])  # fmt: skip
            return
        this_account = {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
        key = kms.Key(
            self,
            "Key",
            description="Encrypts the alarm notifications of this environment",
            enable_key_rotation=True,
            # Notifications are delivered and gone: the key protects nothing stored.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=this_account,
            )
        )
        only_aws_resources_get_grants(key)
        topic = sns.Topic(self, "Topic", display_name="Alarms", master_key=key, enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=this_account,
            )
        )
        if config.email is not None:
            topic.add_subscription(subscriptions.EmailSubscription(config.email))
        self.topic = topic
