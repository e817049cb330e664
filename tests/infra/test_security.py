"""Security gates on the synthesized app: cdk-nag, checkov, hardened tasks, secrets, edge."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from infra.compliance import checkov_skips, stack_relative_path
from infra.config import ROOT
from infra.services.task import EXEC_AGENT_DIRS
from tests.infra.conftest import Synth

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"

# Every cdk-nag acknowledgment, per stack: (construct path in the stack, rule).
# Adding or removing one means updating this list and the README's Security section.
ACKNOWLEDGED = {
    "network": [],
    "cluster": [],
    "backend": [
        ("Password", "AwsSolutions-SMG4"),
        ("Task/Definition", "AwsSolutions-ECS2"),
    ],
    "frontend": [
        ("Public/AccessLogs/Bucket", "AwsSolutions-S1"),
        ("Public/SecurityGroup", "AwsSolutions-EC23"),
        ("Task/Definition", "AwsSolutions-ECS2"),
        ("Task/Definition/ExecutionRole/DefaultPolicy", "AwsSolutions-IAM5[Resource::*]"),
    ],
}


def acknowledgments(stack: cdk.Stack) -> Iterator[tuple[str, str, str]]:
    """(path in stack, rule, reason) of every cdk-nag acknowledgment in ``stack``
    (aws-cdk-lib acknowledges some of its own CloudFormation-Validate rules)."""
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            for key, reason in dict(entry.data).items():
                rule = key.split("::", 1)[1] if key.lower().startswith("annotation::") else key
                if rule.startswith("AwsSolutions-"):
                    yield stack_relative_path(construct), rule, str(reason)


def task_containers(synth: Synth) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(service, task definition properties, container) for every service."""
    for name in synth.config.services:
        task = synth.one(name, "AWS::ECS::TaskDefinition")
        (box,) = task["ContainerDefinitions"]
        yield name, task, box


# --- cdk-nag ---------------------------------------------------------------------


def test_cdk_nag_finds_nothing_unacknowledged(synth: Synth) -> None:
    result = AwsSolutionsChecks().validate_scope(synth.app)
    found = [f"{v.rule_name}: {[r.construct_path for r in v.violating_resources]}"
             for v in result.violations]  # fmt: skip
    assert result.success and not found, found


def test_acknowledged_rules_are_the_listed_ones(synth: Synth) -> None:
    parts = {"network": synth.stacks.network, "cluster": synth.stacks.cluster,
             **synth.stacks.services}  # fmt: skip
    made = {part: sorted((path, rule) for path, rule, _ in acknowledgments(stack))
            for part, stack in parts.items()}  # fmt: skip
    assert made == ACKNOWLEDGED
    for stack in parts.values():
        for path, rule, reason in acknowledgments(stack):
            assert len(reason) >= 60, f"{path} {rule}: say why it is acceptable ({reason!r})"


def test_acknowledgments_are_written_into_the_templates(synth: Synth) -> None:
    """Reviewers reading only the templates see each exception and its reason."""
    body = synth.templates[synth.config.stack_name("backend")]
    (secret,) = [r for r in body["Resources"].values()
                 if r["Type"] == "AWS::SecretsManager::Secret"]  # fmt: skip
    rules = secret["Metadata"]["cdk_nag"]["rules_to_suppress"]
    assert [r["id"] for r in rules] == ["AwsSolutions-SMG4"] and rules[0]["reason"]


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        (lambda d: d.update(network={"flow_logs": False}), "AwsSolutions-VPC7"),
        (lambda d: d.update(cluster={"container_insights": False}), "AwsSolutions-ECS4"),
    ],
    ids=["no-flow-logs", "no-container-insights"],
)
def test_an_insecure_edit_fails_at_synth(synth_edited: Any, edit: Any, rule: str) -> None:
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth_edited("dev", dev=edit)


def test_each_variant_passes_cdk_nag(synth_edited: Any) -> None:
    """The options the shipped envs leave off synthesize clean too (synth runs cdk-nag)."""
    synth_edited("dev", dev=lambda d: d.update(services={
        "frontend": {"exec": True, "public": {"certificate_arn": CERTIFICATE}},
        "backend": {"exec": True},
    }))  # fmt: skip
    synth_edited("dev", dev=lambda d: d.update(services={
        "frontend": {"public": {"load_balancer": "network", "listener_port": 8080}},
    }))  # fmt: skip


# --- checkov -----------------------------------------------------------------------


def run_checkov(directory: Path, *extra: str) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail("checkov is missing: run `make deps` (it lives in .venv-checkov)")
    result = subprocess.run(
        [str(CHECKOV), "--directory", str(directory), "--framework", "cloudformation",
         "--output", "json", "--skip-download", *extra],
        capture_output=True, text=True, timeout=300, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert isinstance(report, dict), report  # one framework: one report
    return report


@pytest.fixture(scope="module")
def checkov_reports(synths: dict[str, Synth]) -> dict[str, dict[str, Any]]:
    return {env: run_checkov(Path(s.assembly.directory)) for env, s in synths.items()}


def test_checkov_fails_nothing(checkov_reports: dict[str, dict[str, Any]]) -> None:
    for env, report in checkov_reports.items():
        failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
        assert failed == [], env
        assert report["summary"]["passed"] > 50, env


def test_checkov_skips_are_only_the_listed_ones(
    checkov_reports: dict[str, dict[str, Any]], synths: dict[str, Synth]
) -> None:
    listed = {skip.check: skip.reason for skip in checkov_skips()}
    for report in checkov_reports.values():
        for check in report["results"]["skipped_checks"]:
            assert check["check_id"] in listed, check["check_id"]
            assert check["check_result"]["suppress_comment"] == listed[check["check_id"]]
    # Every path pattern in the file still matches a resource somewhere.
    paths = [
        stack_relative_path(construct)
        for synth in synths.values()
        for stack in synth.stacks.all()
        for construct in stack.node.find_all()
        if isinstance(construct, cdk.CfnResource)
    ]
    for skip in checkov_skips():
        for pattern in skip.paths:
            assert any(fnmatch.fnmatchcase(p, pattern) for p in paths), (skip.check, pattern)


def test_https_listeners_pass_checkov_without_skips(synth_edited: Any, tmp_path: Path) -> None:
    after = synth_edited("dev", dev=lambda d: d.update(
        services={"frontend": {"public": {"certificate_arn": CERTIFICATE}}}))  # fmt: skip
    body = json.loads(json.dumps(after.templates["timestamper-dev-frontend"]))
    for resource in body["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    (tmp_path / "scan").mkdir()
    (tmp_path / "scan" / "frontend.template.json").write_text(json.dumps(body))
    report = run_checkov(tmp_path / "scan", "--check", "CKV_AWS_2,CKV_AWS_103")
    results = report["results"]
    assert results["failed_checks"] == []
    assert {c["check_id"] for c in results["passed_checks"]} == {"CKV_AWS_2", "CKV_AWS_103"}


# --- containers --------------------------------------------------------------------


def test_every_container_is_hardened(synth: Synth) -> None:
    for name, task, box in task_containers(synth):
        svc = synth.config.services[name]
        uid = box["User"].split(":")[0]
        assert box["User"] == svc.user and int(uid) != 0, name
        assert box["ReadonlyRootFilesystem"] is True, name
        assert box.get("Privileged", False) is False, name
        assert box["LogConfiguration"]["LogDriver"] == "awslogs", name
        mounts = {m["ContainerPath"]: m for m in box.get("MountPoints", [])}
        assert sorted(mounts) == sorted(svc.scratch), name
        volumes = {v["Name"] for v in task.get("Volumes", [])}
        for mount in mounts.values():
            assert mount["ReadOnly"] is False and mount["SourceVolume"] in volumes, name
        # Task-local storage only: no host paths, nothing shared between tasks.
        assert all(set(v) == {"Name"} for v in task.get("Volumes", [])), name
        (service,) = synth.resources(name, "AWS::ECS::Service").values()
        assert service["Properties"].get("EnableExecuteCommand", False) is False, name


def test_scratch_dirs_are_what_the_images_write(synth: Synth) -> None:
    assert synth.config.services["backend"].scratch == ["/data"]
    assert synth.config.services["frontend"].scratch == ["/tmp"]


def test_exec_turns_on_ecs_exec_with_writable_agent_dirs(synth_edited: Any) -> None:
    after = synth_edited("dev", dev=lambda d: d.update(services={"frontend": {"exec": True}}))
    (service,) = after.resources("frontend", "AWS::ECS::Service").values()
    assert service["Properties"]["EnableExecuteCommand"] is True
    (box,) = after.one("frontend", "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    assert box["ReadonlyRootFilesystem"] is True
    paths = {m["ContainerPath"] for m in box["MountPoints"]}
    assert paths == {"/tmp", *EXEC_AGENT_DIRS}
    (backend,) = after.resources("backend", "AWS::ECS::Service").values()
    assert backend["Properties"].get("EnableExecuteCommand", False) is False


def test_a_third_service_is_hardened_too(synth_edited: Any) -> None:
    after = synth_edited("dev", base=lambda b: b["services"].update(
        worker={"image": "busybox", "user": "65534:65534", "port": 8080,
                "scratch": ["/var/cache/worker"], "connects_to": ["backend"]}))  # fmt: skip
    (box,) = after.one("worker", "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    assert (box["User"], box["ReadonlyRootFilesystem"]) == ("65534:65534", True)
    assert [m["ContainerPath"] for m in box["MountPoints"]] == ["/var/cache/worker"]
    assert [s["Name"] for s in box["Secrets"]] == ["BACKEND_PASSWORD"]


# --- Redis AUTH --------------------------------------------------------------------


def secret_names(box: dict[str, Any]) -> list[str]:
    return sorted(s["Name"] for s in box.get("Secrets", []))


def test_backend_password_is_generated_in_the_backend_stack(synth: Synth) -> None:
    (secret,) = synth.resources("backend", "AWS::SecretsManager::Secret").values()
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate["PasswordLength"] >= 32 and generate["ExcludePunctuation"] is True
    assert "SecretString" not in secret["Properties"]
    for name in ("network", "cluster", "frontend"):
        assert synth.resources(name, "AWS::SecretsManager::Secret") == {}, name


def test_password_reaches_redis_and_its_clients_as_ecs_secrets(synth: Synth) -> None:
    boxes = {name: box for name, _, box in task_containers(synth)}
    assert secret_names(boxes["backend"]) == ["BACKEND_PASSWORD"]
    assert secret_names(boxes["frontend"]) == ["BACKEND_PASSWORD"]
    (secret_id,) = synth.resources("backend", "AWS::SecretsManager::Secret")
    assert boxes["backend"]["Secrets"][0]["ValueFrom"] == {"Ref": secret_id}
    # Across stacks: a weak reference to the backend stack's output.
    value_from = boxes["frontend"]["Secrets"][0]["ValueFrom"]
    assert value_from["Fn::GetStackOutput"]["StackName"] == synth.config.stack_name("backend")
    for name, box in boxes.items():
        plain = {e["Name"] for e in box.get("Environment", [])}
        assert not any("PASSWORD" in key for key in plain), name
    assert "requirepass" in " ".join(boxes["backend"]["Command"])


def _statements(synth: Synth, part: str, role_id_prefix: str) -> list[dict[str, Any]]:
    """Statements of the inline policies attached to one role (by logical-ID prefix)."""
    found = []
    for policy in synth.resources(part, "AWS::IAM::Policy").values():
        roles = [r["Ref"] for r in policy["Properties"]["Roles"]]
        if any(r.startswith(role_id_prefix) for r in roles):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_only_the_execution_roles_of_its_users_read_the_secret(synth: Synth) -> None:
    """ECS fetches container secrets with the task's execution role; the
    application's own task role gets no access to Secrets Manager."""
    for part in ("backend", "frontend"):
        execution = _statements(synth, part, "TaskDefinitionExecutionRole")
        reads = [s for s in execution if "secretsmanager:GetSecretValue" in s["Action"]]
        assert len(reads) == 1, part
        assert "*" not in json.dumps(reads[0]["Resource"]), part
        task_role = _statements(synth, part, "TaskDefinitionTaskRole")
        assert not any("secretsmanager" in json.dumps(s["Action"]) for s in task_role), part


def keys(value: Any) -> Iterator[str]:
    """Every mapping key anywhere inside a template."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys(inner)


def test_no_template_holds_a_secret_value(synth: Synth) -> None:
    # A literal secret value would sit in SecretString; generated ones never do.
    assert "SecretString" not in set(keys(synth.templates))
    (box,) = synth.one("backend", "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    assert box["Command"][-1].count("--requirepass") == 1
    assert '--requirepass "$BACKEND_PASSWORD"' in box["Command"][-1]


# --- Network and edge --------------------------------------------------------------


def lb_attributes(synth: Synth) -> dict[str, Any]:
    lb = synth.one("frontend", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    return {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}


def test_flow_logs_and_container_insights(synth: Synth) -> None:
    assert synth.one("network", "AWS::EC2::FlowLog")["TrafficType"] == "ALL"
    settings = synth.one("cluster", "AWS::ECS::Cluster")["ClusterSettings"]
    assert {"Name": "containerInsights", "Value": "enabled"} in settings


def test_load_balancer_logs_headers_and_deletion_protection(synth: Synth) -> None:
    attributes = lb_attributes(synth)
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    (bucket_id,) = synth.resources("frontend", "AWS::S3::Bucket")
    assert attributes["access_logs.s3.bucket"] == {"Ref": bucket_id}
    protected = "true" if synth.config.env == "prod" else "false"
    assert attributes["deletion_protection.enabled"] == protected


def test_access_log_bucket_is_private_encrypted_tls_only_and_expiring(synth: Synth) -> None:
    bucket = synth.one("frontend", "AWS::S3::Bucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # fmt: skip
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == synth.config.logging.retention_days
    policy = synth.one("frontend", "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s.get("Condition") for s in policy
                                                          if s["Effect"] == "Deny"]  # fmt: skip
    writers = [s for s in policy if s["Action"] == "s3:PutObject"]
    assert writers and writers[0]["Principal"]["Service"] == (
        "logdelivery.elasticloadbalancing.amazonaws.com"
    )


def test_without_a_certificate_synth_says_http_once(synth: Synth) -> None:
    frontend = synth.assembly.get_stack_by_name(synth.config.stack_name("frontend"))
    infos = [m for m in frontend.messages if m.level == cdk.cx_api.SynthesisMessageLevel.INFO]
    assert len(infos) == 1 and "plain HTTP" in str(infos[0].entry.data)


def test_a_certificate_gives_https_and_a_redirect(synth_edited: Any) -> None:
    after = synth_edited("dev", dev=lambda d: d.update(services={"frontend": {"public": {
        "certificate_arn": CERTIFICATE, "domain_name": "www.example.com"}}}))  # fmt: skip
    listeners = {
        props["Port"]: props
        for props in (r["Properties"] for r in after.resources(
            "frontend", "AWS::ElasticLoadBalancingV2::Listener").values())
    }  # fmt: skip
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE}]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["DefaultActions"][0]["Type"] == "forward"
    (action,) = listeners[80]["DefaultActions"]
    assert action["Type"] == "redirect"
    assert action["RedirectConfig"] == {"Port": "443", "Protocol": "HTTPS",
                                        "StatusCode": "HTTP_301"}  # fmt: skip
    (group,) = [g["Properties"] for g in after.resources("frontend", "AWS::EC2::SecurityGroup")
                .values() if "SecurityGroupIngress" in g["Properties"]]  # fmt: skip
    assert sorted(r["FromPort"] for r in group["SecurityGroupIngress"]) == [80, 443]
    outputs = after.templates["timestamper-dev-frontend"]["Outputs"]
    url = next(v for k, v in outputs.items() if k.startswith("Url"))
    assert url["Value"] == "https://www.example.com"
    frontend = after.assembly.get_stack_by_name("timestamper-dev-frontend")
    assert not [m for m in frontend.messages if "plain HTTP" in str(m.entry.data)]


# --- Dockerfile --------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(ROOT / "frontend" / "Dockerfile")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_pins_its_base_image_by_version() -> None:
    froms = [line.split()[1] for line in (ROOT / "frontend" / "Dockerfile").read_text().splitlines()
             if line.startswith("FROM ")]  # fmt: skip
    assert froms and all(
        fnmatch.fnmatchcase(image, "python:3.*.*-slim-*") and image.count(".") == 2
        for image in froms
    ), froms
    assert 'VOLUME ["/tmp"]' in (ROOT / "frontend" / "Dockerfile").read_text()
