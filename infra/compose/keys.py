"""Compose service keys this import does not carry over, and why.

Every key Compose can write is in one of three places: mapped by
:mod:`infra.compose.service`, dropped here with the reason (no equivalent is
needed on ECS, or it only matters locally), or refused here with the reason
(carrying on without it would change what the app does). A key in none of
them is refused as unknown, so a new Compose key never slips through silently.
"""

from __future__ import annotations

DROPPED = {
    "container_name": "ECS names tasks itself",
    "restart": "ECS replaces a stopped task of a service itself",
    "networks": "one VPC: who may reach whom comes from connects_to (least privilege)",
    "labels": "Docker labels; stacks and tasks carry the app/env/service tags",
    "hostname": "a task's hostname is its own; peers find it by its Cloud Map name",
    "domainname": "peers find a service by its Cloud Map name",
    "logging": "logs go to CloudWatch Logs (logging.retention_days)",
    "stop_signal": "ECS sends SIGTERM, then SIGKILL after 30 s",
    "stop_grace_period": "ECS waits 30 s after SIGTERM",
    "init": "no init process; the command should exec its server (PID 1 gets SIGTERM)",
    "stdin_open": "no terminal on ECS; `make exec` opens a shell",
    "tty": "no terminal on ECS; `make exec` opens a shell",
    "pull_policy": "ECS pulls the image at each task start",
    "profiles": "only the services of the active profiles are imported",
    "extra_hosts": "peers are found by name through Cloud Map",
    "dns": "the VPC's resolver answers, Cloud Map names included",
    "dns_search": "the VPC's resolver answers, Cloud Map names included",
    "dns_opt": "the VPC's resolver answers, Cloud Map names included",
    "ulimits": "Fargate's defaults apply",
    "shm_size": "Fargate's /dev/shm is 64 MB",
    "sysctls": "not settable on Fargate",
    "cap_drop": "Fargate tasks run with a reduced capability set already",
    "security_opt": "Fargate's own isolation applies",
    "oom_score_adj": "the container is stopped at its memory limit",
    "mem_reservation": "a Fargate task gets its whole size",
    "memswap_limit": "Fargate has no swap here",
    "mem_swappiness": "Fargate has no swap here",
    "cpu_shares": "a Fargate task gets its whole size",
    "cpu_quota": "a Fargate task gets its whole size",
    "cpu_period": "a Fargate task gets its whole size",
    "cpuset": "a Fargate task gets its whole size",
    "cpu_count": "a Fargate task gets its whole size",
    "cpu_percent": "a Fargate task gets its whole size",
    "blkio_config": "not settable on Fargate",
    "pids_limit": "not settable on Fargate",
    "group_add": "not settable on Fargate",
    "mac_address": "tasks get their own network interface",
    "annotations": "Docker annotations",
    "attach": "logs go to CloudWatch Logs",
    "develop": "compose watch is for local development",
    "post_start": "lifecycle hooks run only under compose",
    "pre_stop": "lifecycle hooks run only under compose",
}

REFUSED = {
    "privileged": "Fargate runs no privileged containers",
    "cap_add": "Fargate adds no capabilities but SYS_PTRACE; drop it or run elsewhere",
    "devices": "Fargate has no host devices",
    "device_cgroup_rules": "Fargate has no host devices",
    "gpus": "Fargate has no GPUs",
    "network_mode": "each task has its own network interface (awsvpc); sharing another's "
    "network or the host's is not possible",
    "ipc": "Fargate shares no IPC namespace",
    "pid": "Fargate shares no PID namespace",
    "uts": "Fargate shares no UTS namespace",
    "userns_mode": "not settable on Fargate",
    "cgroup": "not settable on Fargate",
    "cgroup_parent": "not settable on Fargate",
    "volumes_from": "tasks share no volumes this way; use a named volume (EFS) in both",
    "external_links": "containers outside the project do not exist on ECS",
    "configs": "ECS mounts no config files: bake the file into the image (COPY in its Dockerfile)",
    "runtime": "Fargate's runtime is fixed",
    "isolation": "Fargate's isolation is fixed",
    "storage_opt": "not settable on Fargate",
    "credential_spec": "Windows containers are not supported here",
    "use_api_socket": "Fargate has no Docker engine",
    "models": "AI models of Docker Model Runner do not run on Fargate",
    "provider": "compose providers run only under compose",
}

# The keys this import maps (infra.compose.service), for the unknown-key check.
MAPPED = frozenset(
    {
        "image",
        "build",
        "ports",
        "expose",
        "environment",
        "command",
        "entrypoint",
        "user",
        "read_only",
        "healthcheck",
        "deploy",
        "tmpfs",
        "volumes",
        "secrets",
        "depends_on",
        "links",
        "working_dir",
        "scale",
        "cpus",
        "mem_limit",
        "platform",
    }
)

# Docker's ECS integration (retired in 2023): what has an equivalent here, by key.
X_AWS_MAPPED = frozenset({"x-aws-autoscaling", "x-aws-pull_credentials"})
X_AWS_REFUSED = {
    "x-aws-role": "IAM here is derived from connects_to, secrets and volumes; add a "
    "statement to the service's construct for other AWS access",
    "x-aws-policies": "IAM here is derived from connects_to, secrets and volumes; add a "
    "statement to the service's construct for other AWS access",
    "x-aws-min_percent": "deployments are set with deployment: (rolling, canary, linear, "
    "blue_green)",
    "x-aws-max_percent": "deployments are set with deployment: (rolling, canary, linear, "
    "blue_green)",
    "x-aws-vpc": "this app creates its own VPC (network:)",
    "x-aws-cluster": "this app creates its own cluster (cluster:)",
    "x-aws-loadbalancer": "each public service gets its own load balancer, or a rule on "
    "the env's shared one (public.host, public.path)",
    "x-aws-cloudformation": "CloudFormation overlays have no place here: change the "
    "constructs in infra/ instead",
}


def extension_verdict(key: str) -> str | None:
    """Why an ``x-`` key that is not mapped is refused (``x-aws-*``), or None for one of
    compose's own extensions (dropped with :data:`EXTENSION_DROPPED`)."""
    if not key.startswith("x-aws-"):
        return None
    return X_AWS_REFUSED.get(key, "not a key of Docker's ECS integration with an equivalent here")


EXTENSION_DROPPED = "an extension for compose itself"
