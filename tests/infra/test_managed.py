"""Managed backends: ElastiCache Serverless for Valkey and Aurora Serverless v2 PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from infra.config import load_config
from infra.ops import cost
from tests.infra.conftest import Synth, Variants, config_dir_with
from tests.infra.templates import (
    GROUP,
    INGRESS,
    LOG_GROUP,
    SERVICE,
    TASK,
    container,
    exported,
    task_group,
)

CACHE = "AWS::ElastiCache::ServerlessCache"
CLUSTER = "AWS::RDS::DBCluster"
INSTANCE = "AWS::RDS::DBInstance"


def test_prod_s_backend_is_a_serverless_valkey_its_consumer_reaches_over_tls(
    synths: dict[str, Synth],
) -> None:
    prod = synths["prod"]
    backend = prod.template("backend")
    for kind in (SERVICE, TASK, LOG_GROUP):  # no container, no logs of ours
        backend.resource_count_is(kind, 0)
    backend.has_resource(CACHE, {
        # Prod keeps it (and its data) when the stack goes.
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {"Engine": "valkey", "MajorEngineVersion": "8",
                       "ServerlessCacheName": "timestamper-prod-backend",
                       "SnapshotRetentionLimit": 7, "DailySnapshotTime": "03:00",
                       "UserGroupId": Match.any_value()}})  # fmt: skip
    (cache,) = backend.find_resources(CACHE).values()
    # In the private subnets of every zone, behind its own group, which admits nothing
    # by itself: the frontend's stack holds the one rule, on 6379, from its tasks.
    subnets = cache["Properties"]["SubnetIds"]
    private = {s["Fn::GetStackOutput"]["OutputName"] for s in subnets}
    assert len(private) == 2 and all("PrivateSubnet" in name for name in private)
    (group,) = backend.find_resources(GROUP)
    assert cache["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group, "GroupId"]}]
    backend.resource_count_is(INGRESS, 0)
    frontend = prod.template("frontend")
    (rule,) = frontend.find_resources(INGRESS, {"Properties": {"FromPort": 6379}}).values()
    assert exported(prod, rule["Properties"]["GroupId"], "backend") == {
        "Fn::GetAtt": [group, "GroupId"]}  # fmt: skip
    assert rule["Properties"]["SourceSecurityGroupId"] == task_group(frontend)
    # The same variables as from the container, and TLS.
    env = {e["Name"]: e["Value"] for e in container(frontend, "frontend")["Environment"]}
    assert (env["BACKEND_PORT"], env["BACKEND_TLS"]) == ("6379", "true")
    assert prod.assembly.get_stack_by_name("timestamper-prod-backend").termination_protection


def test_dev_keeps_redis_in_a_container_on_its_volume(synths: dict[str, Synth]) -> None:
    dev = synths["dev"]
    dev.template("backend").resource_count_is(CACHE, 0)
    dev.template("backend").resource_count_is(SERVICE, 1)
    env = {e["Name"] for e in container(dev.template("frontend"), "frontend")["Environment"]}
    assert "BACKEND_TLS" not in env
    assert dev.stacks.storage is not None


def test_a_dev_valkey_goes_with_its_stack_and_keeps_no_snapshots(variants: Variants) -> None:
    dev = variants["postgres-dev"]
    backend = dev.template("backend")
    backend.has_resource(CACHE, {
        "DeletionPolicy": "Delete",
        "Properties": {"ServerlessCacheName": "timestamper-dev-backend",
                       "SnapshotRetentionLimit": 0,
                       "DailySnapshotTime": Match.absent(),
                       "CacheUsageLimits": {"DataStorage": {"Unit": "GB", "Maximum": 2}}}})  # fmt: skip
    names = {a["Properties"]["AlarmName"]
             for a in backend.find_resources("AWS::CloudWatch::Alarm").values()}  # fmt: skip
    assert names == {"timestamper-dev-backend-throttled", "timestamper-dev-backend-storage-high"}
    assert dev.stacks.storage is None  # nothing mounts a volume any more


def test_aurora_postgres_scales_to_zero_and_is_kept_in_prod(variants: Variants) -> None:
    for name, deleted in (("shared", False), ("postgres-dev", True)):
        synth = variants[name]
        db = synth.template("db")
        db.resource_count_is(SERVICE, 0)
        db.has_resource(CLUSTER, {
            "DeletionPolicy": "Delete" if deleted else "Snapshot",
            "Properties": {
                "Engine": "aurora-postgresql", "EngineVersion": "16.9",
                "StorageEncrypted": True, "DeletionProtection": not deleted,
                "BackupRetentionPeriod": 14, "MasterUsername": "postgres",
                "EnableCloudwatchLogsExports": ["postgresql"],
                "ServerlessV2ScalingConfiguration": {"MinCapacity": 0, "MaxCapacity": 2},
                "DBClusterIdentifier": synth.config.stack_name("db")}})  # fmt: skip
        db.resource_count_is(INSTANCE, 1)  # one serverless writer
        db.has_resource_properties(INSTANCE, {"DBInstanceClass": "db.serverless"})
        # TLS only; its log group is ours: named before Aurora writes, kept as logs are.
        db.has_resource_properties("AWS::RDS::DBClusterParameterGroup", {
            "Parameters": {"rds.force_ssl": "1"}})  # fmt: skip
        db.has_resource(LOG_GROUP, {
            "DeletionPolicy": "Delete" if deleted else "Retain",
            "Properties": {"LogGroupName": f"/aws/rds/cluster/{synth.config.stack_name('db')}"
                                          "/postgresql", "RetentionInDays": 365}})  # fmt: skip
        # The frontend gets the password field of the master secret, and TLS.
        box = container(synth.template("frontend"), "frontend")
        env = {e["Name"]: e["Value"] for e in box["Environment"]}
        assert (env["DB_PORT"], env["DB_TLS"]) == ("5432", "true")
        (secret,) = [s for s in box["Secrets"] if s["Name"] == "DB_PASSWORD"]
        joined = secret["ValueFrom"]["Fn::Join"][1]
        assert joined[-1] == ":password::"


def test_managed_engines_are_priced_at_their_minimums(
    synths: dict[str, Synth], variants: Variants
) -> None:
    prices = cost.Prices.load()
    prod = cost.by_item(cost.estimate(synths["prod"].templates, prices))
    valkey = prod["ElastiCache Serverless backend"]
    # 100 MB of data storage is the least a serverless cache bills, around the clock.
    assert valkey.monthly == pytest.approx(0.1 * prices.unit["elasticache_valkey_gb_hour"] * 730)
    aurora = cost.by_item(cost.estimate(variants["shared"].templates, prices))
    assert aurora["Aurora Serverless v2 db"].monthly == 0  # min_capacity 0: paused when idle
    assert any("ECPU" in item for item in prices.not_included)


def test_a_managed_layer_replaces_the_container_below_it(tmp_path: Path) -> None:
    """prod.yaml's managed: valkey drops base.yaml's image, command, volumes ...; a
    container key in the same file is refused by name."""
    prod = load_config("prod", environ={})
    backend = prod.services["backend"]
    assert backend.managed is not None and backend.image is None and not backend.volumes
    assert backend.model_fields_set == {"managed", "auth"}  # the container's port went too
    # By a variable too (dev without its volume list, which only the container mounts).
    folder = config_dir_with(tmp_path, dev=lambda d: d["storage"].pop("volumes"))
    managed = {"APP_CONFIG__SERVICES__BACKEND__MANAGED": "valkey"}
    assert load_config("dev", folder, environ=managed).services["backend"].image is None
