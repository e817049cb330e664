"""ServiceTask: the Fargate task definition and the one container of a service."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.aws_ecr_assets import Platform
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import HealthCheckConfig, LoggingConfig, ServiceConfig
from infra.logs import configured_log_group
from infra.paths import ROOT

# Files that never go into an image: keeping them out of the asset means its
# hash (and so a deploy) only moves when the image would change.
ASSET_EXCLUDES = [
    "**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache",
    "**/.ruff_cache", "tests", "**/.DS_Store",
]  # fmt: skip


# A context at the project root (compose's `context: .`) would otherwise copy
# the project's own tooling into every asset staging.
PROJECT_EXCLUDES = [".git", ".venv", ".venv-checkov", "node_modules", "cdk.out", ".cache"]


# Docker's name and ECS's name of each ``platform``.
BUILD_PLATFORMS = {"x86_64": Platform.LINUX_AMD64, "arm64": Platform.LINUX_ARM64}
CPU_ARCHITECTURES = {"x86_64": ecs.CpuArchitecture.X86_64, "arm64": ecs.CpuArchitecture.ARM64}
# How long a Spot task's container has between SIGTERM (sent with Spot's
# two-minute notice) and SIGKILL: Fargate's default, stated so the agreement is
# visible and tested. The frontend's gunicorn finishes within its
# graceful_timeout, 10 s less; any server on Spot must stop within it.
SPOT_STOP_SECONDS = 30


def container_image(scope: Construct, service: ServiceConfig) -> ecs.ContainerImage:
    """A registry image as named, or the ``build`` context as a Docker asset (with
    its Dockerfile, target stage and build arguments, as compose's ``build:``)."""
    build = service.build
    if build is not None:
        context = (ROOT / build.context).resolve()
        return ecs.ContainerImage.from_asset(
            str(context),
            file=build.dockerfile,
            target=build.target,
            build_args=build.args or None,
            exclude=ASSET_EXCLUDES + (PROJECT_EXCLUDES if context == ROOT else []),
            # The tasks' architecture, whatever the builder's (ARM laptops, x86 CI).
            platform=BUILD_PLATFORMS[service.platform],
        )
    assert service.image is not None  # the config guarantees exactly one of the two
    private = ECR_IMAGE.match(service.image)
    if private is not None:
        return _ecr_image(scope, private)
    if service.pull_credentials is None:
        return ecs.ContainerImage.from_registry(service.image)
    # CDK grants the execution role read access to the secret.
    credentials = secretsmanager.Secret.from_secret_complete_arn(
        scope, "PullCredentials", service.pull_credentials
    )
    return ecs.ContainerImage.from_registry(service.image, credentials=credentials)


# An image in a private ECR repository: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>
# with a tag or a digest (none: latest).
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?:(?::(?P<tag>[A-Za-z0-9_.-]+))|(?:@(?P<digest>sha256:[a-f0-9]{64})))?$"
)


def _ecr_image(scope: Construct, found: re.Match[str]) -> ecs.ContainerImage:
    """An ECR image by its repository, so that the execution role may pull it: named
    as a plain registry image, ECS would fail to start the task with AccessDenied
    (CDK only warns). Another account's repository must also allow this one."""
    repository = found["repository"]
    arn = (
        f"arn:{Stack.of(scope).partition}:ecr:{found['region']}:{found['account']}:"
        f"repository/{repository}"
    )
    source = ecr.Repository.from_repository_attributes(
        scope, "Repository", repository_arn=arn, repository_name=repository
    )
    return ecs.ContainerImage.from_ecr_repository(
        source, found["digest"] or found["tag"] or "latest"
    )


# Where the ECS Exec agent writes; with a read-only root filesystem these must
# be volumes or the agent crashes (aws/containers-roadmap#1359).
EXEC_AGENT_DIRS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")


def health_check(check: HealthCheckConfig) -> ecs.HealthCheck:
    """A list runs as is (CMD); a string runs through the image's shell (CMD-SHELL)."""
    if isinstance(check.command, str):
        command = ["CMD-SHELL", check.command]
    else:
        command = ["CMD", *check.command]
    return ecs.HealthCheck(
        command=command,
        interval=Duration.seconds(check.interval_seconds),
        timeout=Duration.seconds(check.timeout_seconds),
        retries=check.retries,
        start_period=Duration.seconds(check.start_period_seconds),
    )


class ServiceTask(Construct):
    """A task definition sized from config with one hardened container.

    The container runs as the configured non-root user on a read-only root
    filesystem, never privileged; only the ``scratch`` directories (and the
    ECS Exec agent's, when exec is on) are writable, as task-local volumes,
    besides the durable volumes that :class:`VolumeMounts` adds.
    ``user: image`` and ``read_only_root: false`` are the explicit opt-outs
    for images that need their own user or a writable root (reported at synth).
    ``environment`` holds what the infrastructure injects (PORT and the peers'
    HOST/PORT) and ``secrets`` the passwords, read by ECS at task start and
    never written into the template; the config rules keep a service's own
    ``environment`` from using those names.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        service: ServiceConfig,
        logging: LoggingConfig,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
    ) -> None:
        super().__init__(scope, construct_id)
        self.definition = ecs.FargateTaskDefinition(
            self,
            "Definition",
            cpu=service.cpu,
            memory_limit_mib=service.memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=CPU_ARCHITECTURES[service.platform],
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.log_group = configured_log_group(self, "Logs", logging)
        self.container = self.definition.add_container(
            "Container",
            container_name=name,
            image=container_image(self, service),
            essential=True,
            # A hard limit (the whole task's memory): the container is stopped
            # at it rather than starving the ECS agent's own processes.
            memory_limit_mib=service.memory,
            user=None if service.runs_as_image_user else service.user,
            readonly_root_filesystem=service.read_only_root,
            privileged=False,
            command=service.command,
            entry_point=service.entrypoint,
            working_directory=service.working_dir,
            # The name is what Service Connect refers to; a worker has no port.
            port_mappings=[ecs.PortMapping(container_port=service.port, name=name)]
            if service.port is not None
            else None,
            environment={**service.environment, **environment},
            secrets=dict(secrets),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=self.log_group),
            health_check=health_check(service.health_check) if service.health_check else None,
            stop_timeout=Duration.seconds(SPOT_STOP_SECONDS) if service.capacity.spot else None,
        )
        acknowledge(
            self.definition,
            "AwsSolutions-ECS2",
            "The plain environment holds only wiring (PORT, peers' host names and ports) and "
            "the service's own non-secret settings; passwords arrive as ECS secrets.",
        )
        pulled_from = (
            f"built from {service.build.context}/"
            if service.build is not None
            else service.image
            if service.image and ECR_IMAGE.match(service.image)
            else None
        )
        if pulled_from is not None and self.definition.execution_role is not None:
            acknowledge(
                self.definition.execution_role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                f"ecr:GetAuthorizationToken, needed to pull the image {pulled_from}, takes "
                "no resource ARN; the pull actions are scoped to its repository.",
            )
        self._opt_outs(name, service)
        writable = [*service.scratch, *(EXEC_AGENT_DIRS if service.exec else ())]
        for path in writable:
            # A volume with no host path is empty task storage that lives and
            # dies with the task; it takes the mode and owner of the image's
            # directory when the image declares that directory a VOLUME.
            volume = "scratch-" + re.sub(r"[^A-Za-z0-9_-]", "-", path.strip("/"))
            self.definition.add_volume(name=volume)
            self.container.add_mount_points(
                ecs.MountPoint(container_path=path, source_volume=volume, read_only=False)
            )

    def _opt_outs(self, name: str, service: ServiceConfig) -> None:
        """Report each opt-out once, at synth, and accept the control it turns off."""
        if service.runs_as_image_user:
            Annotations.of(self).add_info(
                f"{name} runs as its image's own user (user: image), which may be root"
            )
            acknowledge(
                self.definition,
                "control-tower::ecs_task_definition_nonroot_user_check",
                f"user: image in config: {name}'s image chooses its user (many public "
                "images start as root to set up, then drop to their own user).",
            )
        if not service.read_only_root:
            Annotations.of(self).add_info(
                f"{name} has a writable root filesystem (read_only_root: false)"
            )
            acknowledge(
                self.definition,
                "control-tower::ecs_containers_readonly_access_check",
                f"read_only_root: false in config: {name}'s image writes outside "
                "the volumes it declares.",
            )
