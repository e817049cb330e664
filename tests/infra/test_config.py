"""The config loader: shipped files load, every rule rejects bad input clearly."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.compliance import checks_failed, failed_findings
from infra.config import ConfigError, Removal, advisories, load_config
from infra.paths import ROOT
from tests.infra.conftest import config_dir_with


def dev_with(tmp_path: Path, text: str) -> Path:
    """config/ copied to tmp_path with dev.yaml replaced by ``text``."""
    config_dir = config_dir_with(tmp_path)
    (config_dir / "dev.yaml").write_text(text)
    return config_dir


def errors_of(
    config_dir: Path, env: str = "dev", environ: dict[str, str] | None = None
) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(env, config_dir, environ=environ or {})
    return caught.value.problems


def test_shipped_environments_load() -> None:
    dev = load_config("dev", environ={})
    prod = load_config("prod", environ={})
    assert (dev.app, dev.env, prod.env) == ("timestamper", "dev", "prod")
    assert dev.network.nat_gateways == 0 and prod.network.nat_gateways == 2
    assert dev.logging.removal_policy is Removal.DESTROY
    assert prod.logging.removal_policy is Removal.RETAIN
    assert prod.logging.retention_days == dev.logging.retention_days == 365
    assert prod.termination_protection and not dev.termination_protection
    # prod.yaml overrides only some frontend keys; the rest comes from base.yaml.
    frontend = prod.services["frontend"]
    assert (frontend.cpu, frontend.memory, frontend.port) == (256, 512, 5000)
    assert (frontend.capacity.spot, frontend.capacity.on_demand_base) == (True, 1)
    assert dev.services["backend"].platform == "arm64"  # prod's is managed Valkey
    assert prod.services["backend"].managed is not None
    assert frontend.connects_to == ["backend"]
    assert prod.service_order() == ["backend", "frontend"]


BAD_DEV_YAML = [
    ("network: {nat_gateway: 1}", "network.nat_gateway: unknown key"),
    ("services: {frontend: {memory: 4096}}",
     "services.frontend.memory: 4096 is not valid with cpu 256; use one of 512, 1024, 2048"),
    ("services: {frontend: {cpu: 300}}", "services.frontend.cpu: 300 is not a Fargate cpu"),
    ("services: {frontend: {cpu: 1024, memory: 1024}}",
     "services.frontend.memory: 1024 is not valid with cpu 1024"),
    ("logging: {retention_days: 10}", "logging.retention_days: 10 is not a CloudWatch retention"),
    ("logging: {removal_policy: keep}", "logging.removal_policy: 'keep'"),
    ("services: {frontend: {port: 0}}", "services.frontend.port: 0: Input should be greater than"),
    ("services: {frontend: {port: 70000}}", "services.frontend.port: 70000: Input should be less"),
    ("services: {frontend: {public: {listener_port: 65536}}}",
     "services.frontend.public.listener_port: 65536"),
    ("services: {frontend: {desired_count: many}}", "services.frontend.desired_count: 'many'"),
    ("services: {Web_App: {image: nginx, port: 80}}", "services.Web_App: 'Web_App' is not a DNS label"),
    ("services: {worker: {image: busybox, user: '1', public: {}}}",
     "services.worker.public: needs a port: a service without one (a worker) has no clients"),
    ("services: {worker: {image: busybox, user: '1', auth: true}}",
     "services.worker.auth: needs a port"),
    ("services: {worker: {image: busybox, user: '1'}, frontend: {connects_to: [backend, worker]}}",
     "services.frontend.connects_to.1: 'worker' has no port (a worker): nothing can connect to it"),
    ("services: {worker: {image: busybox, port: 80}}",
     "services.worker.user: required key is missing: the numeric uid or uid:gid the container runs as"),
    ("services: {frontend: {user: '0'}}", "services.frontend.user: uid 0 is root"),
    ("services: {frontend: {user: 65534}}",
     "services.frontend.user: 65534: write the uid or uid:gid in quotes, such as '10001' or '1000:50'"),
    ("storage: {volumes: {redis-data: {owner: 1000:50}}}",
     "storage.volumes.redis-data.owner: 60050: write the uid or uid:gid in quotes"),
    ("services: {frontend: {user: '000:10'}}", "services.frontend.user: uid 0 is root"),
    ("services: {frontend: {user: app}}", "services.frontend.user: 'app' is not a numeric uid"),
    ("services: {frontend: {scratch: [tmp]}}",
     "services.frontend.scratch.0: 'tmp' is not an absolute directory path"),
    ("services: {frontend: {scratch: [/tmp, /tmp]}}",
     "services.frontend.scratch: lists a path twice"),
    ("services: {frontend: {exec: yes please}}", "services.frontend.exec: 'yes please'"),
    ("services: {frontend: {command: []}}", "services.frontend.command: List should have at least"),
    ("services: {frontend: {environment: {BACKEND_PASSWORD: hunter2}}}",
     "services.frontend.environment.BACKEND_PASSWORD: is set by the infrastructure"),
    ("services: {backend: {environment: {BACKEND_PASSWORD: hunter2}}}",
     "services.backend.environment.BACKEND_PASSWORD: is set by the infrastructure"),
    ("services: {frontend: {public: {certificate_arn: my-cert}}}",
     "services.frontend.public.certificate_arn: 'my-cert' is not an ACM certificate ARN"),
    ("services: {frontend: {public: {load_balancer: network, certificate_arn: "
     "'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123'}}}",
     "services.frontend.public.certificate_arn: HTTPS needs load_balancer: application"),
    ("services: {frontend: {public: {listener_port: 443, certificate_arn: "
     "'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123'}}}",
     "services.frontend.public.listener_port: 443 is the HTTPS listener"),
    ("services: {network: {image: busybox, user: '1', port: 80}}",
     "services.network: 'network' is the name of another stack"),
    ("services: {frontend: {connects_to: [cache]}}",
     "services.frontend.connects_to.0: 'cache' is not a service; services are backend, frontend"),
    ("services: {frontend: {connects_to: [frontend]}}",
     "services.frontend.connects_to.0: frontend cannot connect to itself"),
    ("services: {frontend: {connects_to: [backend, backend]}}",
     "services.frontend.connects_to: lists a service twice"),
    ("services: {backend: {connects_to: [frontend]}}",
     "services: connects_to forms a cycle"),
    ("services: {frontend: {autoscaling: {min: 4, max: 2}}}",
     "services.frontend.autoscaling.min: 4 is above max 2"),
    ("services: {frontend: {autoscaling: {min: 1, max: 4, cpu_percent: 95}}}",
     "services.frontend.autoscaling.cpu_percent: 95"),
    ("services: {backend: {desired_count: 2}}",
     "services.backend.desired_count: 2: a stateful service runs exactly 1 task"),
    ("services: {backend: {autoscaling: {min: 1, max: 2}}}",
     "services.backend.autoscaling: a stateful service cannot autoscale"),
    ("services: {backend: {build: frontend}}",
     "services.backend: set exactly one of image (a registry image) or build"),
    ("services: {frontend: {build: config}}",
     "services.frontend.build: 'Dockerfile' is not a file in config/"),
    ("services: {frontend: {build: nowhere}}",
     "services.frontend.build: 'nowhere' is not a directory"),
    ("services: {frontend: {build: {context: frontend, dockerfile: Dockerfile.prod}}}",
     "services.frontend.build.dockerfile: 'Dockerfile.prod' is not a file in frontend/"),
    ("services: {frontend: {build: {context: frontend, args: {1X: y}}}}",
     "services.frontend.build.args.1X"),
    ("services: {frontend: {build: {context: frontend, stage: x}}}",
     "services.frontend.build.stage: unknown key"),
    # Images you don't control: the image's user is an explicit word, never a name.
    ("services: {frontend: {user: root}}", "services.frontend.user: 'root' is not a numeric uid or uid:gid"),
    ("services: {frontend: {read_only_root: maybe}}", "services.frontend.read_only_root: 'maybe'"),
    # Durable volumes.
    ("services: {frontend: {volumes: {cache: tmp}}}",
     "services.frontend.volumes.cache: 'tmp' is not an absolute directory path"),
    ("services: {frontend: {volumes: {Cache: /cache}}}", "services.frontend.volumes.Cache: 'Cache' is not a DNS label"),
    ("services: {frontend: {volumes: {cache: /tmp/cache}}}",
     "services.frontend.volumes.cache: /tmp/cache overlaps scratch /tmp (scratch.0): a directory is either scratch or one volume"),
    ("services: {frontend: {volumes: {one: /srv, two: /srv/two}}}",
     "services.frontend.volumes.two: /srv/two overlaps volume /srv (volumes.one)"),
    ("services: {frontend: {volumes: {redis-data: /srv}}}",
     "services.frontend.volumes.redis-data: redis-data is already mounted by backend; a volume belongs to one service unless storage.volumes.redis-data.shared is true"),
    ("services: {frontend: {volumes: {redis-data: /srv}}}\nstorage: {volumes: {redis-data: {shared: true}}}",
     "services.frontend.volumes.redis-data: redis-data is mounted by services running as 10001, 999:1000; set storage.volumes.redis-data.owner"),
    ("services: {backend: {user: image}}",
     "services.backend.user: with user: image, set storage.volumes.redis-data.owner to the uid:gid"),
    ("storage: {volumes: {redis-dat: {size_gb: 2}}}",
     "storage.volumes.redis-dat: no service mounts redis-dat (volumes mounted: redis-data; a "
     "managed service mounts none): remove storage.volumes.redis-dat, or give its owner"),
    ("storage: {volumes: {redis-data: {owner: '0:0'}}}", "storage.volumes.redis-data.owner: uid 0 is root"),
    ("storage: {volumes: {redis-data: {size_gb: 0}}}", "storage.volumes.redis-data.size_gb: 0"),
    ("storage: {removal_policy: keep}", "storage.removal_policy: 'keep'"),
    # Existing secrets.
    ("services: {frontend: {secrets: {API_KEY: {ssm: /app/key, secrets_manager: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf'}}}}",
     "services.frontend.secrets.API_KEY: set exactly one of ssm (a parameter) or secrets_manager"),
    ("services: {frontend: {secrets: {API_KEY: {}}}}",
     "services.frontend.secrets.API_KEY: set exactly one of ssm"),
    ("services: {frontend: {secrets: {API_KEY: {ssm: /app/key, field: token}}}}",
     "services.frontend.secrets.API_KEY.field: picks a key of a JSON secret: only with secrets_manager"),
    ("services: {frontend: {secrets: {API_KEY: {ssm: 'app key'}}}}",
     "services.frontend.secrets.API_KEY.ssm: 'app key' is not an SSM parameter name"),
    ("services: {frontend: {secrets: {API_KEY: {secrets_manager: 'arn:aws:secretsmanager:eu-west-1:12345:secret:x-AbCdEf'}}}}",
     "services.frontend.secrets.API_KEY.secrets_manager: 'arn:aws:secretsmanager:eu-west-1:12345:secret:x-AbCdEf' is not a Secrets Manager secret's complete ARN"),
    ("services: {frontend: {secrets: {API_KEY: {ssm: /app/key, kms_key: alias/app}}}}",
     "services.frontend.secrets.API_KEY.kms_key: 'alias/app' is not a KMS key ARN"),
    ("services: {frontend: {secrets: {api-key: {ssm: /app/key}}}}",
     "services.frontend.secrets.api-key: 'api-key' is not an environment variable name"),
    ("services: {frontend: {secrets: {BACKEND_PASSWORD: {ssm: /app/key}}}}",
     "services.frontend.secrets.BACKEND_PASSWORD: is set by the infrastructure; use another name"),
    ("services: {frontend: {environment: {API_KEY: x}, secrets: {API_KEY: {ssm: /app/key}}}}",
     "services.frontend.secrets.API_KEY: is also in environment; keep one of the two"),
    ("services: {frontend: {secrets: {API_KEY: {ssm: /app/key, version: 2}}}}",
     "services.frontend.secrets.API_KEY.version: unknown key"),
    ("cluster: {service_connect: yes please}", "cluster.service_connect: 'yes please'"),
    ("services: {frontend: {secrets: {API_KEY: {ssm: 'arn:aws:ssm:us-east-1:123456789012:parameter/k', kms_key: 'arn:aws:kms:eu-west-1:123456789012:key/k-1'}}}}",
     "services.frontend.secrets.API_KEY.kms_key: is in eu-west-1, the secret in us-east-1: SSM and Secrets Manager decrypt with a key of their own region"),
    ('account: "123456789012"\nregion: eu-west-1\navailability_zones: [eu-west-1a, eu-west-1b]\nservices: {frontend: {secrets: {API_KEY: {ssm: "arn:aws:ssm:us-east-1:123456789012:parameter/k"}}}}',
     "services.frontend.secrets.API_KEY.ssm: is in us-east-1, and this env is pinned to eu-west-1"),
    ("storage: {volumes: {kept: {owner: '0'}}}", "storage.volumes.kept.owner: uid 0 is root"),
    ("services: {frontend: {secrets: {API_KEY: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf'}}}",
     "services.frontend.secrets.API_KEY: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf': say where it is kept: {secrets_manager: arn:aws:secretsmanager"),
    # Compose's list forms, and a secret given as a bare name.
    ("services: {backend: {volumes: ['redis-data:/data']}}",
     "services.backend.volumes: is a list; write a mapping of volume name to path, e.g. redis-data: /data (compose's '- redis-data:/data')"),
    ("services: {frontend: {environment: [A=b]}}",
     "services.frontend.environment: is a list; write a mapping of NAME: value (compose's '- NAME=value')"),
    ("services: {frontend: {secrets: {API_KEY: /app/key}}}",
     "services.frontend.secrets.API_KEY: '/app/key': say where it is kept: {ssm: /app/key} for an SSM parameter, or {secrets_manager: <the secret's complete ARN>}"),
    ("services: {frontend: {build: []}}",
     "services.frontend.build: is a list; write a directory (build: frontend) or a mapping"),
    ("services: {frontend: {volumes: {cache: /tmp/../etc}}}",
     "services.frontend.volumes.cache: /tmp/../etc has a . or .. part; write the directory it means"),
    ("services: {frontend: {scratch: [/tmp, /var/./run]}}",
     "services.frontend.scratch.1: /var/./run has a . or .. part"),
    ("services: {my-cache: {image: redis, user: '1', port: 1}, my--cache: {image: redis, user: '1', port: 2}}",
     "services.my-cache: my-cache and my--cache differ only in hyphens; rename one"),
    ("services: {frontend: {volumes: {a-b: /srv/1, a--b: /srv/2}}}",
     "services.frontend.volumes.a-b: a-b and a--b differ only in hyphens; rename one"),
    ("services: {frontend: {secrets: {API_KEY: {secrets_manager: prod/api}}}}",
     "services.frontend.secrets.API_KEY.secrets_manager: 'prod/api' is not a Secrets Manager secret's complete ARN, which ECS needs"),
    ("services: {frontend: {secrets: {API_KEY: {secrets_manager: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-AbCdEf', field: 'a:b'}}}}",
     "services.frontend.secrets.API_KEY.field: 'a:b'"),
    ("services: {frontend: {public: {health_check_path: healthz}}}",
     "services.frontend.public.health_check_path: 'healthz' is not an absolute URL path"),
    ("services: {frontend: {public: {load_balancer: classic}}}",
     "services.frontend.public.load_balancer: 'classic': Input should be 'application' or 'network'"),
    ("services: {frontend: {environment: {BACKEND_HOST: elsewhere}}}",
     "services.frontend.environment.BACKEND_HOST: is set by the infrastructure"),
    ("services: {frontend: {environment: {spring.profile: x}}}",
     "services.frontend.environment.spring.profile: 'spring.profile' is not an environment variable name"),
    ("network: {nat_gateways: 3}", "network.nat_gateways: 3 is more than max_azs 2"),
    # DNS labels stop at 63 characters (the frontend refuses longer ALLOWED_HOSTS at boot).
    (f"services: {{frontend: {{public: {{domain_name: {'a' * 64}.example.com}}}}}}",
     f"services.frontend.public.domain_name: '{'a' * 64}.example.com' is not a lowercase host"),
    # YAML slips that leave one value where keys belong.
    ("network:\n  nat_gateways:1", "network: 'nat_gateways:1' is one text, not a key: put a space"),
    ("services:\n  frontend:\n  cpu: 512",
     "services.frontend: is empty: its keys go on the lines below it, indented further right"),
    ("network: {max_azs: 3}", "network.max_azs: 3 needs availability_zones listed"),
    ("network: {cidr: 10.0.0.1/16}", "network.cidr: '10.0.0.1/16' is not an IPv4 network"),
    ("network: {cidr: 10.0.0.0/26}", "network.cidr: 10.0.0.0/26 must be between /16 and /24"),
    ("cluster: {namespace: Service Local}",
     "cluster.namespace: 'Service Local' is not a lowercase DNS name"),
    ('account: "123456789012"', "account: account and region must be set together"),
    ("account: 123456789012", "account: 123456789012: Input should be a valid string"),
    ('account: "123456789012"\nregion: eu-west-1',
     "account: with region, availability_zones must be listed"),
    ('account: "123456789012"\nregion: eu-west-1\navailability_zones: [us-east-1a]',
     "availability_zones.0: 'us-east-1a' is not a zone of eu-west-1"),
    ("region: europe", "region: 'europe' is not an AWS region name"),
    ("env: prod", "env: is the file's own name; remove the key"),
    ("servics: {}", "servics: unknown key"),
    ("services: {backend: {deployment: {strategy: canary}}}",
     "services.backend.deployment.strategy: canary: a stateful service deploys rolling"),
    ("services: {frontend: {public: {load_balancer: network}, deployment: {strategy: linear}}}",
     "services.frontend.deployment.strategy: linear needs public: with load_balancer: "
     "application, whose listener rule ECS shifts the traffic through; this service has "
     "public.load_balancer: network. Use rolling"),
    ("services: {frontend: {deployment: {percent: 10}}}",
     "services.frontend.deployment.percent: only canary and linear deploys take percent, not "
     "rolling"),
    ("services: {frontend: {deployment: {bake_minutes: 5}}}",
     "services.frontend.deployment.bake_minutes: a rolling deploy has no bake time of its own"),
    ("services: {frontend: {deployment: {strategy: linear, percent: 2}}}",
     "services.frontend.deployment.percent: 2: a linear step is 3 to 100 percent"),
    ("services: {frontend: {deployment: {strategy: canary, percent: 10.05}}}",
     "services.frontend.deployment.percent: 10.05: ECS takes steps of 0.1"),
    ("alarms: {email: a@b.co, topic_arn: 'arn:aws:sns:us-east-1:123456789012:ops'}",
     "alarms: set email (a topic the app creates) or topic_arn (your own), not both"),
    ("alarms: {email: ops}", "alarms.email: 'ops' is not an email address"),
    ("account: '123456789012'\nregion: eu-west-1\navailability_zones: [eu-west-1a, eu-west-1b]"
     "\nalarms: {topic_arn: 'arn:aws:sns:us-east-1:123456789012:ops'}",
     "alarms.topic_arn: arn:aws:sns:us-east-1:123456789012:ops is in us-east-1, and this env "
     "is pinned to eu-west-1"),
    ("yes: 1", "True: a top-level key must be text; quote it"),
    # Cost modes.
    ("network: {nat_gateways: -1}", "network.nat_gateways: -1: Input should be greater than or equal to 0"),
    ("services: {backend: {capacity: {spot: true}}}",
     "services.backend.capacity.spot: a stateful service runs its one task on regular Fargate"),
    ("services: {frontend: {capacity: {on_demand_base: 1}}}",
     "services.frontend.capacity.on_demand_base: only with spot: true"),
    ("services: {frontend: {capacity: {spot: true, base: 1}}}",
     "services.frontend.capacity.base: unknown key"),
    ("services: {frontend: {platform: arm}}",
     "services.frontend.platform: 'arm': Input should be 'x86_64' or 'arm64'"),
    ("services: {frontend: {public: {path: admin}}}",
     "services.frontend.public.path: 'admin' is not a path pattern such as /api/*"),
    ("services: {frontend: {public: {host: www.example.com, load_balancer: network}}}",
     "services.frontend.public.load_balancer: host and path route through the shared"),
    ("services: {frontend: {public: {host: www.example.com}, deployment: {strategy: canary}}}",
     "services.frontend.deployment.strategy: canary: ECS shifts traffic only on a listener "
     "whose rules all forward"),
    ("services:\n  frontend: {public: {path: /app/*}}\n  admin: {build: frontend, port: 5000, "
     "user: '1', scratch: [/tmp], public: {path: /app/*}}",
     "services.admin.public: path /app/* is already frontend's rule"),
    ("services:\n  frontend: {public: {path: /app/*}}\n  admin: {build: frontend, port: 5000, "
     "user: '1', scratch: [/tmp], public: {path: /admin/*, listener_port: 8080}}",
     "services.admin.public.listener_port: 8080 differs from frontend's 80: the services behind "
     "the shared load balancer share its listener"),
    ("services:\n  frontend: {public: {path: /app/*, priority: 7}}\n  admin: {build: frontend, "
     "port: 5000, user: '1', scratch: [/tmp], public: {path: /admin/*, priority: 7}}",
     "services.admin.public.priority: its listener rule priority 7 is also frontend's"),
    ("services: {frontend: {public: {priority: 5}}}",
     "services.frontend.public.priority: only with public.host or public.path"),
    ("services: {frontend: {public: {host: www.example.com, domain_name: example.com}}}",
     "services.frontend.public.domain_name: example.com is not public.host www.example.com"),
    # Managed engines.
    ("services: {cache: {managed: valkey, connects_to: [backend]}}",
     "services.cache.connects_to: not for a managed service: it is what others connect to"),
    ("services: {backend: {managed: valkey, cpu: 512}}",
     "services.backend.cpu: not for a managed service: ElastiCache Serverless for Valkey runs "
     "no container of yours"),
    ("services: {backend: {managed: valkey, port: 6380}}",
     "services.backend.port: 6380: ElastiCache Serverless for Valkey listens on 6379"),
    ("services: {cache: {managed: {engine: valkey, min_capacity: 1}}}",
     "services.cache.managed.min_capacity: not for valkey: only max_storage_gb is its own"),
    ("services: {db: {managed: {engine: postgres, backup_retention_days: 0}}}",
     "services.db.managed.backup_retention_days: 0: Aurora Serverless v2 for PostgreSQL keeps "
     "backups 1 to 35 days"),
    ("services: {db: {managed: {engine: postgres, min_capacity: 0.3}}}",
     "services.db.managed.min_capacity: 0.3: Aurora capacity goes in steps of 0.5 ACU"),
    ("services: {db: {managed: {engine: postgres, min_capacity: 4, max_capacity: 2}}}",
     "services.db.managed.min_capacity: 4 is above max_capacity 2"),
    ("services: {db: {managed: {engine: postgres, min_capacity: 8}}}",
     "services.db.managed.min_capacity: 8 is above max_capacity 4 (its default)"),
    ("network: {max_azs: 1, nat_gateways: 0}\nservices: {db: {managed: postgres}}",
     "network.max_azs: 1: db is managed, and ElastiCache and Aurora need subnets in 2 zones"),
    ("services: {my--db: {managed: postgres}}",
     "services.my--db: 'my--db': AWS names its Aurora Serverless v2 for PostgreSQL after the "
     "service, and they take no two hyphens in a row"),
    ("services: {db: {managed: {engine: postgres, auth: false}}}",
     "services.db.managed.auth: unknown key"),
    ("services: {db: {managed: postgres, auth: false}}",
     "services.db.auth: false: Aurora always requires a password"),
    ("services: {db: {managed: mysql}}",
     "services.db.managed.engine: 'mysql': Input should be 'valkey' or 'postgres'"),
    ("services: {ingress: {image: busybox, user: '1', port: 80}}",
     "services.ingress: 'ingress' is the name of another stack"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BAD_DEV_YAML, ids=[e for _, e in BAD_DEV_YAML])
def test_bad_input_is_rejected_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    problems = errors_of(dev_with(tmp_path, text))
    # Every one of these comes from a line of dev.yaml, and names it.
    assert any(re.search(rf"dev\.yaml:\d+: {re.escape(expected)}", p) for p in problems), problems


def test_all_errors_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    problems = errors_of(dev_with(tmp_path, (
        "network: {nat_gateway: 1}\n"
        "logging: {retention_days: 10}\n"
        "services: {frontend: {port: 0, desired_count: many}}\n"
    )))  # fmt: skip
    assert len(problems) == 4, problems


def test_typos_and_cross_key_rules_are_reported_together(tmp_path: Path) -> None:
    problems = errors_of(dev_with(tmp_path, (
        "network: {nat_gatways: 1}\n"
        "services: {frontend: {memory: 4096}, backend: {desired_count: 2}}\n"
    )))  # fmt: skip
    assert [p.split(": ", 2)[1] for p in problems] == [
        "network.nat_gatways",
        "services.backend.desired_count",
        "services.frontend.memory",
    ]


def test_cross_key_rules_skip_a_service_with_field_errors(tmp_path: Path) -> None:
    # frontend's memory cannot be judged against a cpu that is not a number.
    problems = errors_of(dev_with(tmp_path, "services: {frontend: {cpu: lots, memory: 4096}}\n"))
    assert len(problems) == 1 and "services.frontend.cpu: 'lots'" in problems[0]


def test_cross_key_rules_are_reported_together(tmp_path: Path) -> None:
    problems = errors_of(dev_with(tmp_path, (
        "network: {nat_gateways: 3}\n"
        "services: {frontend: {memory: 4096}, backend: {desired_count: 2}}\n"
    )))  # fmt: skip
    assert len(problems) == 3, problems


def test_error_in_base_names_base(tmp_path: Path) -> None:
    def edit(base: dict) -> None:  # type: ignore[type-arg]
        base["services"]["backend"]["memory"] = 3000

    problems = errors_of(config_dir_with(tmp_path, base=edit))
    assert any(re.search(r"base\.yaml:\d+: services\.backend\.memory: 3000 is not valid", p)
               for p in problems), problems  # fmt: skip


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    problems = errors_of(dev_with(tmp_path, "network:\n  cidr: [10.0.0.0/16\nlogging: {}\n"))
    assert len(problems) == 1
    assert "dev.yaml:3: not valid YAML: expected ',' or ']'" in problems[0], problems


INDENTATION = "check the indentation"
BAD_INDENTATION = [
    # A key indented less than the keys beside it.
    ("services:\n  frontend:\n    cpu: 512\n   memory: 1024\n", 4, INDENTATION),
    # A key indented more than the one above it.
    ("services:\n  frontend:\n    cpu: 512\n      memory: 1024\n", 4, INDENTATION),
    # A list item out of line with the one above.
    ("services:\n  frontend:\n    scratch:\n    - /tmp\n   - /var\n", 5, INDENTATION),
    ("services:\n\tfrontend: {}\n", 2, "indent with spaces"),
    ("services:\n  frontend:\n    image: redis: 7\n", 3, "quote a value that holds ': '"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "hint"), BAD_INDENTATION)
def test_a_yaml_error_that_is_likely_indentation_says_so(
    tmp_path: Path, text: str, line: int, hint: str
) -> None:
    (problem,) = errors_of(dev_with(tmp_path, text))
    assert problem.startswith(f"{tmp_path}/config/dev.yaml:{line}: not valid YAML: "), problem
    assert hint in problem


def test_an_unknown_key_suggests_the_nearest_valid_one(tmp_path: Path) -> None:
    problems = errors_of(dev_with(tmp_path, (
        "services:\n"
        "  frontend:\n"
        "    desired_cont: 2\n"
        "    public: {helth_check_path: /}\n"
        "netwrok: {}\n"
        "logging: {unrelated: 1}\n"
    )))  # fmt: skip
    label = f"{tmp_path}/config/dev.yaml"
    assert sorted(problems) == sorted([
        f"{label}:3: services.frontend.desired_cont: unknown key; did you mean desired_count?",
        f"{label}:4: services.frontend.public.helth_check_path: unknown key; "
        "did you mean health_check_path?",
        f"{label}:5: netwrok: unknown key; did you mean network?",
        f"{label}:6: logging.unrelated: unknown key (check the spelling; see the config "
        "reference in README.md)",
    ])  # fmt: skip


def test_errors_name_the_line_in_the_file_that_sets_the_key(tmp_path: Path) -> None:
    problems = errors_of(dev_with(tmp_path, (
        "# a comment, then a blank line\n"
        "\n"
        "network:\n"
        "  nat_gateways: 3\n"
        "services:\n"
        "  frontend:\n"
        "    cpu: 256\n"
        "    memory: 4096\n"
        "    scratch:\n"
        "      - /tmp\n"
        "      - relative\n"
    )))  # fmt: skip
    label = f"{tmp_path}/config/dev.yaml"
    assert problems[0] == f"{label}:11: services.frontend.scratch.1: 'relative' is not an " \
        "absolute directory path such as /tmp"  # fmt: skip
    assert f"{label}:4: network.nat_gateways: 3 is more than max_azs 2" in problems
    # A required key that is missing: the line of the mapping it is missing from.
    again = tmp_path / "again"
    missing = errors_of(dev_with(again, "services:\n  worker:\n    image: busybox\n    port: 80\n"))
    assert missing == [
        f"{again}/config/dev.yaml:2: services.worker.user: required key is missing: "
        "the numeric uid or uid:gid the container runs as, quoted (e.g. '10001'), "
        "or image for the image's own user"
    ]


def test_account_without_region_names_the_line_that_sets_it(tmp_path: Path) -> None:
    alone, both = tmp_path / "alone", tmp_path / "both"
    assert errors_of(dev_with(alone, 'network: {}\naccount: "123456789012"\n')) == [
        f"{alone}/config/dev.yaml:2: account: account and region must be set together (or neither)"
    ]
    assert errors_of(dev_with(both, 'account: "123456789012"\nregion: eu-west-1\n')) == [
        f"{both}/config/dev.yaml:1: account: with region, availability_zones must be listed; synthesis would "
        "otherwise invent dummy zones (e.g. [eu-west-1a, eu-west-1b])"
    ]


DUPLICATES = [
    ("network:\n  nat_gateways: 1\n  nat_gateways: 2\n",
     ["3: network.nat_gateways: set twice (first on line 2)"]),
    ("logging: {retention_days: 7}\nnetwork: {}\nlogging: {retention_days: 14}\n",
     ["3: logging: set twice (first on line 1)"]),
    ("services:\n  frontend:\n    cpu: 512\n  frontend:\n    memory: 1024\n",
     ["4: services.frontend: set twice (first on line 2)"]),
    ("services: {frontend: {cpu: 512, cpu: 1024}}\n",
     ["1: services.frontend.cpu: set twice (first on line 1)"]),
    ("services:\n  frontend:\n    environment: {A: x}\n    environment:\n      A: x\n      A: y\n",
     ["4: services.frontend.environment: set twice (first on line 3)",
      "6: services.frontend.environment.A: set twice (first on line 5)"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), DUPLICATES)
def test_duplicate_keys_are_rejected_with_file_line_and_key(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    label = f"{tmp_path}/config/dev.yaml"
    tail = "; YAML would keep only the last: remove one"
    assert errors_of(dev_with(tmp_path, text)) == [f"{label}:{e}{tail}" for e in expected]


def test_duplicate_keys_in_base_are_rejected_too(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path)
    base = config_dir / "base.yaml"
    base.write_text(base.read_text() + "app: other\n")
    (problem,) = errors_of(config_dir)
    assert problem.startswith(f"{base}:")
    assert problem.endswith(": app: set twice (first on line 3); YAML would keep only the last: "
                            "remove one")  # fmt: skip


def test_anchors_and_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    text = (
        "services:\n"
        "  frontend:\n"
        "    environment: &shared {A: x, B: y}\n"
        "  backend:\n"
        "    environment:\n"
        "      <<: *shared\n"
        "      A: z\n"
    )
    config = load_config("dev", dev_with(tmp_path, text), environ={})
    assert config.services["backend"].environment == {"A": "z", "B": "y"}


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert errors_of(dev_with(tmp_path, "- network\n")) == [
        f"{tmp_path}/config/dev.yaml:1: the top level must be a mapping of keys, not a list"
    ]


def test_empty_env_file_means_base_only(tmp_path: Path) -> None:
    config = load_config("dev", dev_with(tmp_path, "# nothing differs\n"), environ={})
    assert config.services["frontend"].desired_count == 1


def test_unknown_env_lists_the_environments() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("staging", environ={})
    assert "unknown env 'staging'" in str(caught.value)
    assert "environments are: dev, prod" in str(caught.value)


def test_environment_variable_overrides_with_double_underscore() -> None:
    environ = {"APP_CONFIG__SERVICES__FRONTEND__DESIRED_COUNT": "3",
               "APP_CONFIG__LOGGING__RETENTION_DAYS": "30",
               "UNRELATED": "ignored"}  # fmt: skip
    config = load_config("dev", environ=environ)
    assert config.services["frontend"].desired_count == 3
    assert config.logging.retention_days == 30
    assert config.services["backend"].desired_count == 1


def test_bad_environment_variable_is_named() -> None:
    problems = errors_of(
        ROOT / "config", environ={"APP_CONFIG__SERVICES__FRONTEND__MEMORY": "4096"}
    )
    assert problems == [
        "environment variable APP_CONFIG__SERVICES__FRONTEND__MEMORY: services.frontend.memory: "
        "4096 is not valid with cpu 256; use one of 512, 1024, 2048"
    ]


def test_misspelt_environment_variable_is_an_error() -> None:
    problems = errors_of(ROOT / "config", environ={"APP_CONFIG__SERVICES__FRONTEND__REPLICAS": "3"})
    assert any(
        "APP_CONFIG__SERVICES__FRONTEND__REPLICAS" in p and "unknown key" in p for p in problems
    ), problems


IGNORED = ("services.frontend.desired_count is ignored: autoscaling sets the count between "
           "min {} and max {}; edit autoscaling.min/max to scale")  # fmt: skip


def test_desired_count_with_autoscaling_is_an_advisory_not_a_setting(tmp_path: Path) -> None:
    """The template leaves the count to the scaler (infra/services/service.py): a
    desired_count next to autoscaling does nothing, whatever its value."""
    counted = {"APP_CONFIG__SERVICES__FRONTEND__DESIRED_COUNT": "2"}
    assert advisories(load_config("prod", environ=counted)) == [IGNORED.format(2, 16)]
    assert advisories(load_config("prod", environ={})) == []
    assert advisories(load_config("dev", environ={})) == []
    outside = dev_with(
        tmp_path, "services: {frontend: {desired_count: 9, autoscaling: {min: 1, max: 4}}}"
    )
    assert advisories(load_config("dev", outside, environ={})) == [IGNORED.format(1, 4)]


def test_managed_by_a_variable_and_what_a_lower_layer_keeps(tmp_path: Path) -> None:
    """Only a value that names an engine makes a service managed; the container's
    port goes with the rest of it (another engine listens elsewhere)."""
    folder = config_dir_with(tmp_path, dev=lambda d: d["storage"].pop("volumes"))
    for off in ("null",):
        kept = load_config("dev", folder, environ={"APP_CONFIG__SERVICES__BACKEND__MANAGED": off})
        assert kept.services["backend"].image is not None, off
    db = load_config("dev", folder, environ={"APP_CONFIG__SERVICES__BACKEND__MANAGED": "postgres"})
    assert db.services["backend"].endpoint_port == 5432 and db.services["backend"].port is None


def test_spot_past_every_task_is_an_advisory() -> None:
    """An on-demand base that covers the most tasks a service runs leaves Spot unused."""
    based = {"APP_CONFIG__SERVICES__FRONTEND__CAPACITY__ON_DEMAND_BASE": "16"}
    assert advisories(load_config("prod", environ=based)) == [
        "services.frontend.capacity.spot is ignored: on_demand_base 16 covers every task "
        "(at most 16); lower it to run some tasks on Spot"
    ]
    below = {"APP_CONFIG__SERVICES__FRONTEND__CAPACITY__ON_DEMAND_BASE": "15"}
    assert advisories(load_config("prod", environ=below)) == []


def test_an_empty_public_is_no_load_balancer(tmp_path: Path) -> None:
    """``public:`` with nothing after it is YAML's null: how an env drops the load
    balancer base.yaml gives a service (README: the public row)."""
    empty = dev_with(tmp_path, "services:\n  frontend:\n    public:\n")
    config = load_config("dev", empty, environ={})
    assert config.services["frontend"].public is None and advisories(config) == []


def test_autoscaling_needs_no_desired_count(tmp_path: Path) -> None:
    """Without the ignored key (as the advisory suggests, and as prod ships) a config
    is valid, even with a min above desired_count's default of 1."""

    def scale(dev: dict) -> None:  # type: ignore[type-arg]
        dev["services"] = {"frontend": {"autoscaling": {"min": 3, "max": 6}}}

    config = load_config("dev", config_dir_with(tmp_path, dev=scale), environ={})
    assert config.services["frontend"].autoscaling is not None
    assert advisories(config) == []


def run_app(env: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """``python app.py`` as the cdk CLI runs it, context passed the CLI's way (CDK reads
    it in its Node.js process, started with the Python one: hence a subprocess)."""
    context = json.dumps({"env": env})
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "CDK_CONTEXT_JSON": context, **environ},
    )  # fmt: skip


def test_config_error_renders_as_every_entry_point_prints_it() -> None:
    error = ConfigError(["config/dev.yaml: a: one", "config/dev.yaml: b: two"], note="(a note)")
    assert error.render().splitlines() == [
        "2 problems in the config:", "  config/dev.yaml: a: one", "  config/dev.yaml: b: two", "(a note)"]  # fmt: skip
    assert ConfigError(["x: y"]).render() == "1 problem in the config:\n  x: y"


def test_a_failed_check_in_cdks_report_fails_the_app(tmp_path: Path) -> None:
    """Under the cdk CLI a failed check does not raise in app.py: CDK writes the report
    (seen by hand through bin/cdk; a CLI run costs ten seconds), and app.py reads it."""
    report = tmp_path / "validation-report.json"
    assert not checks_failed(report)
    report.write_text(json.dumps({"pluginReports": [
        {"pluginName": "cdk-nag", "conclusion": "success", "violations": []},
        {"pluginName": "control-tower", "conclusion": "failure", "violations": [{}]}]}))  # fmt: skip
    assert checks_failed(report)
    report.write_text(json.dumps({"pluginReports": [{"conclusion": "success"}]}))
    assert not checks_failed(report)


def test_the_findings_of_a_failed_check_are_printed_from_cdks_report(tmp_path: Path) -> None:
    """The cdk CLI prints the report only for an app that succeeded; app.py fails, so
    it prints the findings itself (this report's shape is CDK's, as bin/cdk wrote it)."""
    report = tmp_path / "validation-report.json"
    at = [{"constructPath": f"s/Logs{i}/Resource"} for i in range(7)]
    report.write_text(json.dumps({"pluginReports": [
        {"pluginName": "cdk-nag", "conclusion": "success", "violations": [
            {"ruleName": "ignored", "violatingConstructs": at}]},
        {"pluginName": "control-tower", "conclusion": "failure", "violations": [
            {"ruleName": "cloudwatch_log_group_retention_period_check",
             "description": "[CT.CLOUDWATCH.PR.2]: Require a year",
             "suggestedFix": "Set 'RetentionInDays' to 365 or more.",
             "violatingConstructs": at}]}]}))  # fmt: skip
    assert failed_findings(report) == [
        "[CT.CLOUDWATCH.PR.2]: Require a year "
        "(control-tower: cloudwatch_log_group_retention_period_check)",
        *[f"    at s/Logs{i}/Resource" for i in range(5)],
        "    ... and 2 more",
        "    fix: Set 'RetentionInDays' to 365 or more.",
    ]


def test_app_exits_2_listing_every_problem() -> None:
    """Typing errors and the cross-key rules of the sections that parse, in one run."""
    result = run_app("dev", APP_CONFIG__SERVICES__BACKEND__DESIRED_COUNT="2",
                     APP_CONFIG__SERVICES__FRONTEND__MEMORY="4096",
                     APP_CONFIG__LOGGING__RETENTION_DAYS="8")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0] == "3 problems in the config:"
    assert "logging.retention_days: 8 is not a CloudWatch retention" in result.stderr
    assert "services.backend.desired_count: 2: a stateful service" in result.stderr
    assert "services.frontend.memory: 4096 is not valid with cpu 256" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("(rules across keys")
    assert "Traceback" not in result.stderr


def test_app_reads_the_config_folder_from_the_context(tmp_path: Path) -> None:
    """``--context config=DIR`` (make synth CONFIG=DIR): app.py loads that folder."""
    context = json.dumps({"env": "dev", "config": str(tmp_path / "imported")})
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "CDK_CONTEXT_JSON": context},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"{tmp_path / 'imported'}: no such config folder")


def test_the_checks_switch_takes_on_or_off_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """APP_SECURITY_CHECKS (preview's baseline synth turns it off) takes two values."""
    # The entry point, in-process (it stops before building anything), loaded by
    # path: the frontend's tests import a module named app of their own.
    spec = importlib.util.spec_from_file_location("cdk_entry_point", ROOT / "app.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    monkeypatch.setenv("APP_SECURITY_CHECKS", "no")
    assert app.main() == 2
    assert capsys.readouterr().err == "APP_SECURITY_CHECKS=no: use on (the default) or off\n"
    # Left set in a shell that then deploys: the cdk CLI runs the app, and it refuses.
    monkeypatch.setenv("APP_SECURITY_CHECKS", "off")
    monkeypatch.setenv("CDK_CLI_VERSION", "2.1148.1")
    assert app.main() == 2
    assert "cannot be turned off under the cdk CLI" in capsys.readouterr().err


def test_a_misspelt_service_in_a_variable_names_the_variable(tmp_path: Path) -> None:
    variable = "APP_CONFIG__SERVICES__FRONTND__DESIRED_COUNT"
    problems = errors_of(config_dir_with(tmp_path), environ={variable: "3"})
    # The new service's missing user and image, each blamed on the variable that made it.
    assert len(problems) == 2 and all(
        p.startswith(f"environment variable {variable}: services.frontnd") for p in problems
    ), problems
