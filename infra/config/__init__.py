"""The typed configuration of one environment, and its loader.

``config/base.yaml`` is shared by every environment; ``config/<env>.yaml``
overrides any key in it; variables ``APP_CONFIG__<KEY>__<KEY>...`` override
both. One job per module:

- :mod:`.model`: the schema (keys, types, defaults, field rules);
- :mod:`.rules`: rules across keys (sizes, the ``connects_to`` graph, counts),
  and the advisories: keys set to no effect (``desired_count`` with autoscaling);
- :mod:`.injected`: the variables the infrastructure sets in a container;
- :mod:`.files`: reading one YAML file: its data, each key's line, duplicate keys;
- :mod:`.load`: merging the layers through pydantic-settings;
- :mod:`.origins` and :mod:`.errors`: where a key came from (file and line, or
  variable), and error lines.

The rest of the app imports from here.
"""

from infra.config.errors import ConfigError
from infra.config.injected import Injected, injected
from infra.config.load import environments, load_config, load_with_origins
from infra.config.model import (
    ENV_PREFIX,
    FARGATE_SIZES,
    HTTPS_PORT,
    LOG_RETENTION_DAYS,
    AlarmsConfig,
    AppConfig,
    AutoscalingConfig,
    BuildConfig,
    CapacityConfig,
    ClusterConfig,
    DeploymentConfig,
    HealthCheckConfig,
    LoggingConfig,
    ManagedConfig,
    NetworkConfig,
    PublicConfig,
    Removal,
    SecretConfig,
    ServiceConfig,
    StorageConfig,
    Strategy,
    VolumeConfig,
)
from infra.config.origins import Origins
from infra.config.rules import Ignored, advisories, ignored_keys

__all__ = [
    "ENV_PREFIX",
    "FARGATE_SIZES",
    "HTTPS_PORT",
    "LOG_RETENTION_DAYS",
    "AlarmsConfig",
    "AppConfig",
    "AutoscalingConfig",
    "BuildConfig",
    "CapacityConfig",
    "ClusterConfig",
    "ConfigError",
    "DeploymentConfig",
    "HealthCheckConfig",
    "Ignored",
    "Injected",
    "LoggingConfig",
    "ManagedConfig",
    "NetworkConfig",
    "Origins",
    "PublicConfig",
    "Removal",
    "SecretConfig",
    "ServiceConfig",
    "StorageConfig",
    "Strategy",
    "VolumeConfig",
    "advisories",
    "environments",
    "ignored_keys",
    "injected",
    "load_config",
    "load_with_origins",
]
