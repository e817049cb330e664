"""Security gates on the synthesized app: cdk-nag, checkov, hardened tasks, secrets, edge."""

from __future__ import annotations

import fnmatch
import json
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from infra.compliance import checkov_skips, stack_relative_path
from infra.config import environments
from infra.control_tower import (
    MAX_WAIVERS,
    ControlTowerChecks,
    PassCache,
    Templates,
    WaiverError,
    control_of,
    failing_controls,
    resource_types,
    rule_name,
    rule_types,
    rules_to_skip,
    waivers,
    without_waived,
)
from infra.paths import ROOT
from infra.services.task import EXEC_AGENT_DIRS
from tests.infra.background import HTTPS_LISTENER_CHECKS, TemplateChecks
from tests.infra.conftest import CERTIFICATE, VARIANTS, Synth, Variants
from tests.infra.templates import (
    LISTENER,
    LOAD_BALANCER,
    SERVICE,
    TASK,
    container,
    exported,
    role_statements,
)

pytestmark = pytest.mark.end_to_end  # checkov

SECRET = "AWS::SecretsManager::Secret"
BUCKET = "AWS::S3::Bucket"
BUCKET_POLICY = "AWS::S3::BucketPolicy"

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
# A service whose deploys shift traffic (prod's canary): the role ECS moves it with.
SHIFTING = ("Service", "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "AmazonECSInfrastructureRolePolicyForLoadBalancers]")  # fmt: skip


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


# --- cdk-nag ---------------------------------------------------------------------
# Every synth here runs cdk-nag, and an unacknowledged finding fails it (the session
# fixtures included); test_an_insecure_edit_fails_at_synth shows that it does.


def test_acknowledged_rules_are_the_listed_ones(synth: Synth) -> None:
    parts = {"network": synth.stacks.network, "cluster": synth.stacks.cluster,
             **synth.stacks.services, **synth.stacks.managed}  # fmt: skip
    made = {part: sorted((path, rule) for path, rule, _ in acknowledgments(stack))
            for part, stack in parts.items()}  # fmt: skip
    expected = {part: list(rules) for part, rules in ACKNOWLEDGED.items()}
    for name in synth.stacks.managed:  # prod's Valkey: only its password, as Redis's
        expected[name] = [("Valkey/Password", "AwsSolutions-SMG4")]
    for name, service in synth.containers().items():
        if service.deployment.strategy.shifts_traffic:
            expected[name] = sorted([*expected[name], SHIFTING])
    assert made == expected
    assert any(SHIFTING in rules for rules in made.values()) == (synth.config.env == "prod")
    for stack in parts.values():
        for path, rule, reason in acknowledgments(stack):
            assert len(reason) >= 60, f"{path} {rule}: say why it is acceptable ({reason!r})"


def test_acknowledgments_are_written_into_the_templates(synth: Synth) -> None:
    """Reviewers reading only the templates see each exception and its reason."""
    backend = synth.template("backend")
    backend.resource_count_is(SECRET, 1)
    reason = Match.string_like_regexp(r"\S")
    backend.has_resource(SECRET, {"Metadata": {"cdk_nag": {"rules_to_suppress": [
        {"id": "AwsSolutions-SMG4", "reason": reason}]}}})  # fmt: skip


def test_an_insecure_edit_fails_at_synth(synth_edited: Any) -> None:
    """Turning off flow logs or Container Insights, or keeping logs a month, fails the
    synth, naming each rule (cdk-nag's and Control Tower's)."""
    insecure = {"network": {"flow_logs": False}, "cluster": {"container_insights": False},
                "logging": {"retention_days": 30}}  # fmt: skip
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        synth_edited("dev", dev=lambda d: d.update(insecure), control_tower=True)
    assert "AwsSolutions-VPC7" in str(failure.value)
    assert "AwsSolutions-ECS4" in str(failure.value)
    assert "[CT.CLOUDWATCH.PR.2]" in str(failure.value)


# --- AWS Control Tower proactive controls -------------------------------------------


def template_paths(synth: Synth) -> list[str]:
    return [synth.assembly.get_stack_by_name(name).template_full_path for name in synth.templates]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_control_tower_waivers_are_few_needed_and_documented(synths: dict[str, Synth]) -> None:
    """Each env's synth passes every control but its waivers (synthesize() gates on
    them); here: at most five per env, each one still needed, each in the README."""
    security = readme_section("Security")
    # Each env fails every control it waives (none is stale): one run of only the waived
    # controls' rules over every env's templates. That it fails nothing else is what its
    # synth (with every other rule) already showed.
    paths = {env: template_paths(synth) for env, synth in synths.items()}
    every = {control for env in synths for control in waivers(env)}
    only = [rule for rule in rule_types() if rule not in {rule_name(c) for c in every}]
    report = CfnGuardValidator(control_tower_rules_enabled=True, disabled_rules=only).validate(
        Templates([p for env_paths in paths.values() for p in env_paths])
    )
    failing: dict[str, set[str]] = {}
    for violation in report.violations:
        for resource in violation.violating_resources:
            failing.setdefault(resource.template_path, set()).add(control_of(violation.description))
    for env in synths:
        waived = waivers(env)
        assert 0 < len(waived) <= MAX_WAIVERS, env
        assert set().union(*(failing.get(p, set()) for p in paths[env])) == set(waived), env
        for control in waived:
            assert f"`{control}`" in security, f"README's Security section misses {control}"


def test_rules_left_out_by_type_cannot_change_the_result(synths: dict[str, Synth]) -> None:
    """The type-based selection is an optimization only: AWS's validator with every
    Control Tower rule finds the same controls (on the network stack: VPC, subnets,
    flow logs, a Lambda, its logs and key; the larger frontend costs seconds more)."""
    (path,) = [p for p in template_paths(synths["dev"]) if p.endswith("network.template.json")]
    plain = CfnGuardValidator(control_tower_rules_enabled=True)
    report = plain.validate(Templates([path]))
    every_rule = {control_of(v.description) for v in report.violations}
    assert every_rule and failing_controls([path], {}) == every_rule


def test_a_pass_is_remembered_and_a_failure_is_not(tmp_path: Path) -> None:
    def log_group(days: int) -> str:
        return json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "RetentionInDays": days, "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k"}}}})  # fmt: skip

    (tmp_path / "good.json").write_text(log_group(365))
    (tmp_path / "bad.json").write_text(log_group(30))
    good, bad = str(tmp_path / "good.json"), str(tmp_path / "bad.json")
    checks = ControlTowerChecks({}, cache_dir=tmp_path)
    assert {control_of(v.description) for v in checks.validate(Templates([good, bad])).violations
            } == {"CT.CLOUDWATCH.PR.2"}  # fmt: skip
    assert PassCache({}, tmp_path).known(good) and not PassCache({}, tmp_path).known(bad)
    # Checked again, the failure is found again; the pass holds for these waivers only.
    assert not checks.validate(Templates([good, bad])).success
    assert not PassCache({"CT.S3.PR.2": "a reason"}, tmp_path).known(good)
    (tmp_path / "good.json").write_text(log_group(400))
    assert not PassCache({}, tmp_path).known(good)


def test_a_waived_control_stays_waived_whichever_templates_are_left_to_check(
    variants: Variants,
) -> None:
    """With the pass cache holding all but a prod's backend, network and storage
    templates, the validator (0.0.62) ran every rule, the waived CT.LAMBDA.PR.3
    among them, and the synth failed; the app's checks drop waived findings
    whatever it runs. (The pinned variant: a prod with Redis in a container on a
    volume, as the shipped prod had; dev's backend also holds a finding
    acknowledged on its construct, public IPs without NAT, which templates alone
    do not show.)"""
    folder = Path(variants["pinned"].assembly.directory)
    left = [
        str(folder / f"timestamper-prod-{part}.template.json")
        for part in ("backend", "network", "storage")
    ]
    waived = waivers("prod")
    skip = rules_to_skip(resource_types(Path(p).read_bytes() for p in left), waived)
    upstream = CfnGuardValidator(control_tower_rules_enabled=True, disabled_rules=skip)
    report = upstream.validate(Templates(left))
    found = {control_of(v.description) for v in report.violations}
    # If this stops holding (a validator fix, or templates with other resource types),
    # find another case or drop control_tower.without_waived.
    assert found == {"CT.LAMBDA.PR.3"}, "the validator's disabled-rules bug no longer shows here"
    kept = without_waived(report, waived)
    assert kept.success and list(kept.violations) == []


def test_a_waiver_of_an_unknown_control_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "control-tower.yaml"
    path.write_text("all:\n  CT.S3.PR.99: typo\n")
    with pytest.raises(WaiverError, match=r":2: all\.CT\.S3\.PR\.99: not a Control Tower control"):
        waivers("dev", path)
    path.write_text("dev:\n  CT.S3.PR.10: because\nprod:\n  CT.S3.PR.2: also\n")
    assert waivers("dev", path) == {"CT.S3.PR.10": "because"}
    for text, message in [("all:\n  CT.S3.PR.10:\n", r":2: all\.CT\.S3\.PR\.10: give the reason"),
                          ("all: [CT.S3.PR.10]\n", r":1: all: must be a mapping"),
                          ("all:\n  - x\n y: z\n", "not valid YAML"),
                          ("staging:\n  CT.S3.PR.10: x\n", r":1: staging: not `all` or an env"),
                          ("dev:\n  CT.S3.PR.10: x\ndev: {}\n", r":3: dev: set twice")]:  # fmt: skip
        path.write_text(text)
        with pytest.raises(WaiverError, match=message):
            waivers("dev", path)


def test_each_variant_passes_cdk_nag(variants: Variants) -> None:
    """The options the shipped envs leave off synthesize clean too: synthesize() runs
    cdk-nag and raises on any unacknowledged finding (see the insecure edits above)."""
    for name in VARIANTS:
        assert variants[name].templates, name


# --- checkov -----------------------------------------------------------------------


ENVS = environments()
RESULTS = ("passed_checks", "failed_checks", "skipped_checks")


@pytest.fixture(scope="module")
def checkov_reports(template_checks: TemplateChecks) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each env's and each checked variant's checkov results, from one run over all."""
    results = template_checks.checkov_report()["results"]
    folders = template_checks.checkov_folders
    by_env: dict[str, dict[str, list[dict[str, Any]]]] = {
        env: {kind: [] for kind in RESULTS} for env in folders
    }
    for kind in RESULTS:
        for check in results[kind]:
            path = Path(check["file_abs_path"])
            (env,) = [env for env, folder in folders.items() if path.is_relative_to(folder)]
            by_env[env][kind].append(check)
    return by_env


def test_checkov_fails_nothing(
    checkov_reports: dict[str, dict[str, list[dict[str, Any]]]],
) -> None:
    # nlb: the pinned variant's frontend; https: another's, less its listeners' skips;
    # shared: the load balancer of the ingress stack and the two services' rules.
    for env in [*ENVS, "nlb", "worker", "https", "shared"]:
        results = checkov_reports[env]
        failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
        assert failed == [], env
        assert len(results["passed_checks"]) > (50 if env in ENVS else 20), env
    # The NLB's missing access logs are the listed exception; the ALBs' logs pass.
    assert "CKV_AWS_91" in {c["check_id"] for c in checkov_reports["nlb"]["skipped_checks"]}
    for env in ENVS:
        passed = {c["check_id"] for c in checkov_reports[env]["passed_checks"]}
        assert "CKV_AWS_91" in passed, env


def test_checkov_skips_are_only_the_listed_ones(
    checkov_reports: dict[str, dict[str, list[dict[str, Any]]]],
    synths: dict[str, Synth],
    variants: Variants,
) -> None:
    listed = {skip.check: skip.reason for skip in checkov_skips()}
    for env in ENVS:
        results = checkov_reports[env]
        assert results["skipped_checks"]
        for check in results["skipped_checks"]:
            assert check["check_id"] in listed, check["check_id"]
            assert check["check_result"]["suppress_comment"] == listed[check["check_id"]]
    # Every path pattern in the file still matches a resource somewhere (Aurora's
    # secret: in the shared variant).
    paths = [
        stack_relative_path(construct)
        for synth in [*synths.values(), variants["shared"]]
        for stack in synth.stacks.all()
        for construct in stack.node.find_all()
        if isinstance(construct, cdk.CfnResource)
    ]
    for skip in checkov_skips():
        for pattern in skip.paths:
            assert any(fnmatch.fnmatchcase(p, pattern) for p in paths), (skip.check, pattern)


def test_https_listeners_pass_checkov_without_skips(
    checkov_reports: dict[str, dict[str, list[dict[str, Any]]]],
) -> None:
    results = checkov_reports["https"]
    assert not [c for c in results["skipped_checks"] if c["check_id"] in HTTPS_LISTENER_CHECKS]
    assert not [c for c in results["failed_checks"] if c["check_id"] in HTTPS_LISTENER_CHECKS]
    assert {c["check_id"] for c in results["passed_checks"]} >= set(HTTPS_LISTENER_CHECKS)


# --- containers --------------------------------------------------------------------


def dockerfile_volumes() -> set[str]:
    """The directories frontend/Dockerfile declares a VOLUME (the JSON form)."""
    lines = (ROOT / "frontend" / "Dockerfile").read_text().splitlines()
    return {path for line in lines if line.startswith("VOLUME ")
            for path in json.loads(line.removeprefix("VOLUME "))}  # fmt: skip


def test_every_container_is_hardened(synth: Synth) -> None:
    mounted: dict[str, set[str]] = {}
    for name, svc in synth.containers().items():
        template = synth.template(name)
        assert int(str(svc.user).split(":")[0]) != 0, name
        box = container(template, name, User=svc.user, ReadonlyRootFilesystem=True,
                        LogConfiguration={"LogDriver": "awslogs"})  # fmt: skip
        # Nothing privileged (the key absent or false) and no ECS Exec unless asked.
        privileged = Match.array_with([Match.object_like({"Privileged": True})])
        template.resource_properties_count_is(TASK, {"ContainerDefinitions": privileged}, 0)
        template.resource_count_is(SERVICE, 1)
        template.resource_properties_count_is(SERVICE, {"EnableExecuteCommand": True}, 0)
        # Writable only where the config says: scratch on a task volume of its own,
        # durable volumes on EFS over TLS with IAM, through an access point.
        mounts = box.get("MountPoints", [])
        mounted[name] = {m["ContainerPath"] for m in mounts}
        assert sorted(mounted[name]) == sorted([*svc.scratch, *svc.volumes.values()]), name
        efs = Match.object_equals({"Name": Match.any_value(), "EFSVolumeConfiguration": {
            "FilesystemId": Match.any_value(), "TransitEncryption": "ENABLED",
            "AuthorizationConfig": {"AccessPointId": Match.any_value(), "IAM": "ENABLED"}}})  # fmt: skip
        for mount in mounts:
            assert mount["ReadOnly"] is False, name
            durable = mount["ContainerPath"] in svc.volumes.values()
            volume = efs if durable else Match.exact({"Name": mount["SourceVolume"]})
            template.has_resource_properties(TASK, {"Volumes": Match.array_with([volume])})
        # Nothing else: no host path, no other file system, every volume mounted.
        (task,) = template.find_resources(TASK).values()
        volumes = task["Properties"].get("Volumes", [])
        assert len(volumes) == len(mounts), name
        for volume in volumes:
            assert set(volume) in ({"Name"}, {"Name", "EFSVolumeConfiguration"}), name
    # The writable dirs are the ones the images write: redis's --dir, the frontend's VOLUMEs.
    if "backend" in mounted:  # a container (prod's is managed Valkey)
        redis = shlex.split(container(synth.template("backend"), "backend")["Command"][-1])
        assert redis[redis.index("--dir") + 1] in mounted["backend"]
    assert dockerfile_volumes() and dockerfile_volumes() <= mounted["frontend"]


def test_exec_turns_on_ecs_exec_with_writable_agent_dirs(variants: Variants) -> None:
    after = variants["https-exec-connect"]
    for name, scratch in (("frontend", "/tmp"), ("backend", "/data")):
        template = after.template(name)
        template.resource_count_is(SERVICE, 1)
        template.has_resource_properties(SERVICE, {"EnableExecuteCommand": True})
        box = container(template, name, ReadonlyRootFilesystem=True)
        assert {m["ContainerPath"] for m in box["MountPoints"]} == {scratch, *EXEC_AGENT_DIRS}


def test_a_third_service_is_hardened_too(variants: Variants) -> None:
    container(variants["worker"].template("worker"), "worker",
              User="65534:65534", ReadonlyRootFilesystem=True,
              MountPoints=[{"ContainerPath": "/var/cache/worker"}],
              Secrets=Match.array_with([{"Name": "BACKEND_PASSWORD", "ValueFrom": Match.any_value()}]))  # fmt: skip


# --- Redis AUTH --------------------------------------------------------------------


def test_backend_password_is_generated_in_the_backend_stack(synth: Synth) -> None:
    backend = synth.template("backend")
    backend.resource_count_is(SECRET, 1)
    length = Capture()
    backend.has_resource_properties(SECRET, {
        "GenerateSecretString": {"PasswordLength": length, "ExcludePunctuation": True},
        "SecretString": Match.absent(),
    })  # fmt: skip
    assert length.as_number() >= 32
    for name in ("network", "cluster", "frontend"):
        synth.template(name).resource_count_is(SECRET, 0)


def test_password_reaches_redis_and_its_clients_as_ecs_secrets(synth: Synth) -> None:
    backend, frontend = synth.template("backend"), synth.template("frontend")
    (secret,) = backend.find_resources(SECRET)
    if "backend" in synth.containers():
        redis = container(backend, "backend",
                          Secrets=[{"Name": "BACKEND_PASSWORD", "ValueFrom": {"Ref": secret}}])  # fmt: skip
        assert "requirepass" in " ".join(redis["Command"])
    else:  # managed Valkey: the cache's default user has it, by reference only
        reference = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret},
                                       ":SecretString:::}}"]]}  # fmt: skip
        backend.has_resource_properties("AWS::ElastiCache::User", {
            "UserName": "default", "AuthenticationMode": {"Type": "password",
                                                          "Passwords": [reference]}})  # fmt: skip
    # Across stacks: a weak reference to the backend stack's output of the secret.
    value_from = Capture()
    container(frontend, "frontend",
              Secrets=[{"Name": "BACKEND_PASSWORD", "ValueFrom": value_from}])  # fmt: skip
    assert exported(synth, value_from.as_object(), "backend") == {"Ref": secret}
    # No password among the plain variables of any container.
    password = Match.object_like({"Name": Match.string_like_regexp("PASSWORD")})
    in_plain_sight = Match.object_like({"Environment": Match.array_with([password])})
    for name in synth.containers():
        synth.template(name).resource_properties_count_is(
            TASK, {"ContainerDefinitions": Match.array_with([in_plain_sight])}, 0
        )


def test_only_the_execution_roles_of_its_users_read_the_secret(synth: Synth) -> None:
    """ECS fetches container secrets with the task's execution role; the
    application's own task role gets no access to Secrets Manager."""
    (secret,) = synth.template("backend").find_resources(SECRET)
    for part in [p for p in ("backend", "frontend") if p in synth.containers()]:
        template = synth.template(part)
        execution = role_statements(template, "ExecutionRoleArn")
        reads = [s for s in execution if "secretsmanager:GetSecretValue" in s["Action"]]
        assert len(reads) == 1, part
        resource = reads[0]["Resource"]
        if part != "backend":  # a weak reference to the backend stack's output
            resource = exported(synth, resource, "backend")
        assert resource == {"Ref": secret}, part
        task_role = role_statements(template, "TaskRoleArn")
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
    if "backend" not in synth.containers():
        return  # managed Valkey: see test_password_reaches_redis_and_its_clients...
    command = container(synth.template("backend"), "backend")["Command"][-1]
    assert command.count("--requirepass") == 1
    assert '--requirepass "$BACKEND_PASSWORD"' in command


# --- Network and edge --------------------------------------------------------------


def test_load_balancer_logs_headers_and_deletion_protection(synth: Synth) -> None:
    frontend = synth.template("frontend")
    frontend.resource_count_is(BUCKET, 1)
    (bucket,) = frontend.find_resources(BUCKET)
    protected = "true" if synth.config.env == "prod" else "false"
    frontend.resource_count_is(LOAD_BALANCER, 1)
    for key, value in {
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": {"Ref": bucket},
        "deletion_protection.enabled": protected,
    }.items():
        attribute = Match.array_with([{"Key": key, "Value": value}])
        frontend.has_resource_properties(LOAD_BALANCER, {"LoadBalancerAttributes": attribute})


def test_access_log_bucket_is_private_encrypted_tls_only_and_expiring(synth: Synth) -> None:
    frontend = synth.template("frontend")
    frontend.resource_count_is(BUCKET, 1)
    frontend.has_resource_properties(BUCKET, {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": Match.object_equals({
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True}),
        "LifecycleConfiguration": {
            "Rules": [{"ExpirationInDays": synth.config.logging.retention_days}]},
    })  # fmt: skip
    (bucket,) = frontend.find_resources(BUCKET)
    frontend.resource_count_is(BUCKET_POLICY, 1)
    tls_only = {"Effect": "Deny",
                "Condition": Match.exact({"Bool": {"aws:SecureTransport": "false"}})}  # fmt: skip
    load_balancer_writes = {
        "Action": "s3:PutObject",
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
    }
    for statement in (tls_only, load_balancer_writes):
        frontend.has_resource_properties(BUCKET_POLICY, {
            "Bucket": {"Ref": bucket},
            "PolicyDocument": {"Statement": Match.array_with([Match.object_like(statement)])},
        })  # fmt: skip


def test_without_a_certificate_synth_says_http_once(synth: Synth) -> None:
    frontend = synth.assembly.get_stack_by_name(synth.config.stack_name("frontend"))
    infos = [m for m in frontend.messages if m.level == cdk.cx_api.SynthesisMessageLevel.INFO]
    assert len(infos) == 1 and "plain HTTP" in str(infos[0].entry.data)


def test_a_certificate_gives_https_on_the_domain(variants: Variants) -> None:
    """From YAML to the app (the listeners themselves are test_constructs' business)."""
    after = variants["https-exec-connect"]
    frontend = after.template("frontend")
    frontend.has_resource_properties(LISTENER, {
        "Port": 443, "Certificates": Match.exact([{"CertificateArn": CERTIFICATE}])})  # fmt: skip
    frontend.has_output("Url", {"Value": "https://www.example.com"})
    # The app answers its domain and its load balancer's name, no other Host.
    hosts = {e["Name"]: e["Value"] for e in container(frontend, "frontend")["Environment"]}
    assert hosts["ALLOWED_HOSTS"]["Fn::Join"][1][1:] == ["www.example.com"]
    messages = after.assembly.get_stack_by_name("timestamper-dev-frontend").messages
    assert not [m for m in messages if "plain HTTP" in str(m.entry.data)]


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
