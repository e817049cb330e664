"""ValkeyCache: ElastiCache Serverless for Valkey in place of a Redis container."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct

from infra.config import ManagedConfig
from infra.config.engines import ENGINES
from infra.names import physical_name
from infra.network.stack import PRIVATE
from infra.services.password import ServicePassword

# ElastiCache names (caches, users, user groups): at most 40 characters.
NAME_LIMIT = 40
# The Valkey major version a new cache starts on.
MAJOR_VERSION = "8"
# When the daily snapshot is taken (UTC), out of most working hours.
SNAPSHOT_TIME = "03:00"


class ValkeyCache(Construct):
    """A serverless Valkey cache in the private subnets of every zone.

    ElastiCache Serverless replicates across zones by design and encrypts at
    rest and in transit (it takes TLS connections only). With ``auth`` a
    generated password (``password``, in Secrets Manager) belongs to the
    cache's ``default`` user, so clients authenticate as Redis clients do with
    ``AUTH <password>``; the template holds only a reference to the secret.
    Daily snapshots are kept ``backup_retention_days``. ``removal`` retains the
    cache when its stack goes (prod) or deletes it (dev).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        base_name: str,
        vpc: ec2.IVpc,
        security_group: ec2.SecurityGroup,
        config: ManagedConfig,
        auth: bool,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.password = ServicePassword(self, "Password", service=name) if auth else None
        # The cache's name: its metrics' clusterId, and its user group's ID.
        self.name = physical_name(base_name, NAME_LIMIT)
        user = group = None
        if self.password is not None:
            user = elasticache.CfnUser(
                self, "User", engine="valkey", user_id=physical_name(f"{base_name}-default",
                NAME_LIMIT), user_name="default", access_string="on ~* +@all",
                authentication_mode={"Type": "password",
                                     "Passwords": [self.password.secret_value.unsafe_unwrap()]},
            )  # fmt: skip
            group = elasticache.CfnUserGroup(
                self, "Users", engine="valkey", user_group_id=self.name,
                user_ids=[user.ref],
            )  # fmt: skip
        days = config.backup_retention_days
        limits = (
            elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    unit="GB", maximum=config.max_storage_gb
                )
            )
            if config.max_storage_gb is not None
            else None
        )
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Cache",
            engine="valkey",
            major_engine_version=MAJOR_VERSION,
            serverless_cache_name=self.name,
            description=f"{name}: {ENGINES['valkey'].title}",
            subnet_ids=vpc.select_subnets(subnet_group_name=PRIVATE).subnet_ids,
            security_group_ids=[security_group.security_group_id],
            # 0 written out: leaving it unset after 7 would keep snapshots on.
            snapshot_retention_limit=days,
            daily_snapshot_time=SNAPSHOT_TIME if days else None,
            cache_usage_limits=limits,
            user_group_id=group.ref if group is not None else None,
        )
        # What the kept cache needs is kept with it: deleting its group, user or
        # password under it would fail, or lock clients out.
        for kept in (self.cache, group, user, self.password, security_group):
            if kept is not None:
                kept.apply_removal_policy(removal)
        self.host: str = self.cache.attr_endpoint_address
