"""ServiceTask: the Fargate task definition and the one container of a service."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk.aws_ecr_assets import Platform
from constructs import Construct

from infra.config import ROOT, LoggingConfig, ServiceConfig
from infra.logs import configured_log_group

# Files that never go into an image: keeping them out of the asset means its
# hash (and so a deploy) only moves when the image would change.
ASSET_EXCLUDES = [
    "**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache",
    "**/.ruff_cache", "tests", "**/.DS_Store",
]  # fmt: skip


def container_image(service: ServiceConfig) -> ecs.ContainerImage:
    """A registry image as named, or the ``build`` directory as a Docker asset."""
    if service.build is not None:
        return ecs.ContainerImage.from_asset(
            str(ROOT / service.build),
            exclude=ASSET_EXCLUDES,
            # Fargate runs x86_64 here; pinning it makes builds on ARM laptops match.
            platform=Platform.LINUX_AMD64,
        )
    assert service.image is not None  # the config guarantees exactly one of the two
    return ecs.ContainerImage.from_registry(service.image)


class ServiceTask(Construct):
    """A task definition sized from config with one container, its logs and health check.

    ``environment`` holds what the infrastructure injects (PORT and the peers'
    HOST/PORT); it is merged with the service's own ``environment`` from config,
    which the config rules keep from using those names.
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
    ) -> None:
        super().__init__(scope, construct_id)
        self.definition = ecs.FargateTaskDefinition(
            self,
            "Definition",
            cpu=service.cpu,
            memory_limit_mib=service.memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.log_group = configured_log_group(self, "Logs", logging)
        check = service.health_check
        self.container = self.definition.add_container(
            "Container",
            container_name=name,
            image=container_image(service),
            essential=True,
            port_mappings=[ecs.PortMapping(container_port=service.port, name=name)],
            environment={**service.environment, **environment},
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=self.log_group),
            health_check=(
                ecs.HealthCheck(
                    command=["CMD", *check.command],
                    interval=Duration.seconds(check.interval_seconds),
                    timeout=Duration.seconds(check.timeout_seconds),
                    retries=check.retries,
                    start_period=Duration.seconds(check.start_period_seconds),
                )
                if check
                else None
            ),
        )
