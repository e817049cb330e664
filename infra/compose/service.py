"""One compose service as a ``services.<name>`` entry of base.yaml, key by key.

The project-wide decisions (names, ports, edges, who is public, who has a
password) are made first by :mod:`infra.compose.convert` and arrive in a
:class:`Plan`; here each of the service's keys is mapped, dropped or refused
into the report.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.compose import hosts
from infra.compose.fit import config_name, fargate_size, known_image, name_problem, seconds
from infra.compose.keys import (
    DROPPED,
    EXTENSION_DROPPED,
    MAPPED,
    REFUSED,
    X_AWS_MAPPED,
    extension_verdict,
)
from infra.compose.project import Project
from infra.compose.report import Report, Verdict
from infra.config.injected import ALLOWED_HOSTS, PORT, peer_variables
from infra.config.model import ABS_PATH, ENV_VAR_NAME, SECRET, USER_ID
from infra.paths import ROOT

# Compose's platforms Fargate runs, as the config names their architecture.
PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "arm64", "linux/arm64/v8": "arm64"}


@dataclass
class Plan:
    """What the whole project decided, by compose service name."""

    project: Project
    report: Report
    app: str
    names: dict[str, str]  # compose -> config name
    ecs_hosts: dict[str, str]  # compose -> the name it answers to on ECS (Cloud Map)
    # Each service's environment with every service host rewritten (None values left out).
    environments: dict[str, dict[str, hosts.Rewritten]]
    ports: dict[str, int | None]
    edges: dict[str, list[str]]  # compose -> the compose services it connects to
    public: set[str]
    forced_public: set[str]  # named by --public
    auth: set[str]
    mounts: dict[str, dict[str, str]] = field(default_factory=dict)  # volume -> service -> path


class _Service:
    """The mapping of one service; ``body`` is its config entry."""

    def __init__(self, plan: Plan, name: str) -> None:
        self.plan = plan
        self.name = name
        self.spec: dict[str, Any] = plan.project.services[name]
        self.body: dict[str, Any] = {}
        self.scratch: list[str] = []
        self.volumes: dict[str, str] = {}
        # A database, cache or broker image: stateful, one task.
        self.known = known_image(self.spec.get("image"))

    def where(self, *path: str | int) -> str:
        return self.plan.project.sources.at(("services", self.name, *path))

    def say(self, verdict: Verdict, key: str, text: str, *path: str | int) -> None:
        where = self.where(*(path or tuple(key.split(".")[:1])))
        self.plan.report.add(verdict, where, self.name, key, text)

    def map(self) -> dict[str, Any]:
        spec = self.spec
        self._image()
        port = self.plan.ports[self.name]
        if port is not None:
            self.body["port"] = port
        self._size()
        self._count()
        if self.known is not None:
            self.body["stateful"] = True
            self.say(
                Verdict.NOTE,
                "image",
                f"a {self.known.kind} ({spec['image']}): stateful, one "
                "task that stops before its replacement starts",
                "image",
            )
        self._user()
        self.body["read_only_root"] = bool(spec.get("read_only"))
        if not spec.get("read_only"):
            self.say(
                Verdict.NOTE,
                "read_only",
                "absent: a writable root filesystem, as under "
                "compose; harden it with read_only_root: true and scratch: for the paths "
                "it writes",
            )
        self._working_dir()
        self._platform()
        for key in ("entrypoint", "command"):
            value = spec.get(key)
            if value:
                self.body[key] = list(value)
                self.say(Verdict.MAPPED, key, f"-> {key}")
            elif value == []:
                self.say(
                    Verdict.DROPPED,
                    key,
                    "an empty list (clear the image's) has no equivalent: the image's is used",
                )
        self._environment()
        self._secrets()
        self._volumes()
        for path in spec.get("tmpfs") or []:
            self._add_scratch(str(path).split(":")[0], "tmpfs")
        if self.scratch:
            self.body["scratch"] = self.scratch
        peers = [self.plan.names[p] for p in self.plan.edges[self.name]]
        if peers:
            self.body["connects_to"] = peers
        if self.name in self.plan.auth:
            self.body["auth"] = True
        self._health_check()
        self._public()
        self._extensions()
        self._other_keys()
        return self.body

    # --- image -------------------------------------------------------------------

    def _image(self) -> None:
        build, image = self.spec.get("build"), self.spec.get("image")
        if build is None:
            self.body["image"] = image
            self.say(Verdict.MAPPED, "image", f"-> image: {image}")
            return
        if image:
            self.say(
                Verdict.DROPPED,
                "image",
                f"{image}: the image is built from build: and pushed to ECR at deploy",
                "image",
            )
        context = str(build.get("context", "."))
        if "://" in context or context.startswith("git@"):
            self.say(
                Verdict.REFUSED,
                "build.context",
                f"{context}: a remote context; clone it and give its directory",
                "build",
            )
            return
        out: dict[str, Any] = {"context": os.path.relpath(Path(context), ROOT)}
        dockerfile = build.get("dockerfile")
        if build.get("dockerfile_inline"):
            self.say(
                Verdict.REFUSED,
                "build.dockerfile_inline",
                "write it to a Dockerfile in the context",
                "build",
            )
        if dockerfile and dockerfile != "Dockerfile":
            out["dockerfile"] = os.path.relpath(Path(context, dockerfile), context)
        if build.get("target"):
            out["target"] = build["target"]
        args = {k: str(v) for k, v in (build.get("args") or {}).items() if v is not None}
        if args:
            out["args"] = args
        self.body["build"] = out if len(out) > 1 else out["context"]
        self.say(Verdict.MAPPED, "build", f"-> build: {out['context']} (from the project root)")
        for key in sorted(set(build) - {"context", "dockerfile", "target", "args"}):
            self.say(
                Verdict.DROPPED, f"build.{key}", "not used by the deploy-time image build", "build"
            )

    # --- size and count ----------------------------------------------------------

    def _size(self) -> None:
        limits = ((self.spec.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        cpus = limits.get("cpus", self.spec.get("cpus"))
        memory = limits.get("memory", self.spec.get("mem_limit"))
        if cpus is None and memory is None:
            self.body.update(cpu=256, memory=512)
            self.say(
                Verdict.NOTE,
                "deploy.resources",
                "no limits: the smallest task, 0.25 vCPU and 512 MiB",
                "image",
            )
            return
        size = fargate_size(
            None if cpus is None else float(cpus), None if memory is None else int(memory)
        )
        if size is None:
            self.say(
                Verdict.REFUSED,
                "deploy.resources.limits",
                f"cpus {cpus}, memory {memory} bytes: larger than any Fargate task",
                "deploy",
            )
            return
        self.body.update(cpu=size.cpu, memory=size.memory)
        self.say(
            Verdict.MAPPED,
            "deploy.resources.limits",
            f"cpus {cpus}, memory {memory} "
            f"-> the smallest Fargate task that fits: cpu {size.cpu}, memory "
            f"{size.memory}",
            "deploy",
        )

    def _count(self) -> None:
        deploy = self.spec.get("deploy") or {}
        replicas = deploy.get("replicas", self.spec.get("scale"))
        if deploy.get("mode") == "global":
            self.say(
                Verdict.REFUSED,
                "deploy.mode",
                "global (a task per node) has no Fargate equivalent; use replicas",
                "deploy",
            )
        for key in sorted(set(deploy) - {"replicas", "resources", "mode", "placement"}):
            self.say(
                Verdict.DROPPED,
                f"deploy.{key}",
                "deploys are set with deployment: and ECS restarts failed tasks",
                "deploy",
            )
        reservations = (deploy.get("resources") or {}).get("reservations") or {}
        if reservations.get("devices"):
            self.say(
                Verdict.REFUSED,
                "deploy.resources.reservations.devices",
                "Fargate has no GPUs or other devices",
                "deploy",
            )
        if replicas is None:
            return
        if self.known is not None and int(replicas) != 1:
            self.say(
                Verdict.NOTE,
                "deploy.replicas",
                f"{replicas}: a database or cache runs one task here",
                "deploy",
            )
            return
        self.body["desired_count"] = int(replicas)
        self.say(Verdict.MAPPED, "deploy.replicas", f"-> desired_count: {replicas}", "deploy")

    # --- user ------------------------------------------------------------------

    def _user(self) -> None:
        user = self.spec.get("user")
        if user is None:
            self.body["user"] = "image"
            self.say(
                Verdict.NOTE,
                "user",
                "absent: user: image, the image's own user (often "
                "root); set a numeric uid in the compose file to run as another",
                "image",
            )
            return
        user = str(user)
        if not re.match(USER_ID, user):
            self.say(
                Verdict.REFUSED,
                "user",
                f"{user!r}: ECS here takes a numeric uid[:gid] "
                f"(`docker run --rm --entrypoint id IMAGE -u {user.split(':')[0]}` "
                "prints it)",
            )
        elif user.split(":")[0] == "0":
            self.say(Verdict.REFUSED, "user", "root (uid 0): run as the image's unprivileged uid")
        else:
            self.body["user"] = user
            self.say(Verdict.MAPPED, "user", f"-> user: {user!r}")

    def _working_dir(self) -> None:
        value = self.spec.get("working_dir")
        if value is None:
            return
        if not re.match(ABS_PATH, str(value)):
            self.say(
                Verdict.REFUSED,
                "working_dir",
                f"{value!r} is not an absolute path of plain characters",
            )
            return
        self.body["working_dir"] = value
        self.say(Verdict.MAPPED, "working_dir", "-> working_dir")

    def _platform(self) -> None:
        value = self.spec.get("platform")
        if value is None:
            return
        arch = PLATFORMS.get(str(value))
        if arch is None:
            self.say(Verdict.REFUSED, "platform", f"{value!r}: Fargate runs linux/amd64 "
                     "and linux/arm64 (Graviton) tasks")  # fmt: skip
        elif arch == "x86_64":
            self.say(Verdict.MAPPED, "platform", f"{value} -> x86_64, the default")
        else:
            self.body["platform"] = arch
            self.say(Verdict.MAPPED, "platform", f"{value} -> platform: arm64 (Graviton)")

    # --- environment -------------------------------------------------------------

    def _environment(self) -> None:
        env: dict[str, Any] = self.spec.get("environment") or {}
        own = peer_variables(self.plan.names[self.name]).password
        injected: dict[str, str] = {}
        if self.plan.ports[self.name] is not None:
            injected[PORT] = f"ECS sets it to the service's port ({self.plan.ports[self.name]})"
        if self.name in self.plan.public:
            injected[ALLOWED_HOSTS] = "set to the load balancer's host names"
        if self.name in self.plan.auth:
            injected[own] = "auth: true: a password generated in Secrets Manager"
        for peer in self.plan.edges[self.name]:
            names = peer_variables(self.plan.names[peer])
            injected[names.host] = f"injected: {self.plan.ecs_hosts[peer]}"
            injected[names.port] = f"injected: {peer}'s port"
            if peer in self.plan.auth:
                injected[names.password] = f"injected: {peer}'s generated password"
        out: dict[str, str] = {}
        for variable, value in env.items():
            key, path = f"environment.{variable}", ("environment", variable)
            if variable in injected:
                self.say(Verdict.DROPPED, key, injected[variable], *path)
                continue
            if value is None:
                self.say(
                    Verdict.DROPPED,
                    key,
                    "no value (compose takes it from the shell); set one, or move it to secrets:",
                    *path,
                )
                continue
            if not re.match(ENV_VAR_NAME, variable):
                self.say(
                    Verdict.REFUSED, key, "ECS here takes names of letters, digits and _", *path
                )
                continue
            text = str(value)
            rewritten = self.plan.environments[self.name][variable]
            if rewritten.value != text:
                self.say(
                    Verdict.MAPPED,
                    key,
                    f"-> {rewritten.value} (the ECS name of {', '.join(sorted(rewritten.peers))})",
                    *path,
                )
            if hosts.looks_like_credential(variable, text):
                self.say(
                    Verdict.NOTE,
                    key,
                    "looks like a credential, now in plain text in "
                    "base.yaml: move it to secrets: (an SSM parameter or Secrets Manager "
                    "secret), or auth: true for a password between services",
                    *path,
                )
            out[variable] = rewritten.value
        if out:
            self.say(
                Verdict.MAPPED,
                "environment",
                f"{len(out)} of {len(env)} variables (env_file: included) -> environment",
            )
            self.body["environment"] = out

    def _secrets(self) -> None:
        """Compose secrets are files; ECS gives secrets as variables. A ``<VAR>_FILE``
        variable pointing at the file (as the official database images read them)
        becomes ``<VAR>`` from an SSM parameter; any other is refused."""
        env = self.body.get("environment", {})
        out: dict[str, Any] = {}
        for index, secret in enumerate(self.spec.get("secrets") or []):
            source = secret["source"]
            target = secret.get("target") or f"/run/secrets/{source}"
            if not target.startswith("/"):
                target = f"/run/secrets/{target}"
            users = [v for v, value in env.items() if v.endswith("_FILE") and value == target]
            if not users:
                self.say(
                    Verdict.REFUSED,
                    "secrets",
                    f"{source}: ECS gives secrets as "
                    "environment variables, not files: store it in SSM or Secrets Manager "
                    "and list it under secrets: with the variable the app reads",
                    "secrets",
                    index,
                )
                continue
            for file_variable in users:
                variable = file_variable.removesuffix("_FILE")
                parameter = f"/{self.plan.app}/{config_name(source)}"
                out[variable] = {"ssm": parameter}
                del env[file_variable]
                self.say(
                    Verdict.NOTE,
                    "secrets",
                    f"{source} (read through {file_variable}) "
                    f"-> secrets.{variable} from the SSM parameter {parameter}: create "
                    f"it before deploying (aws ssm put-parameter --name {parameter} "
                    "--type SecureString --value ...)",
                    "secrets",
                    index,
                )
        if out:
            self.body["secrets"] = out
        if not env:
            self.body.pop("environment", None)

    # --- storage -------------------------------------------------------------------

    def _mount(self, volume: str, target: str) -> None:
        """A durable volume at ``target``, recorded for storage.volumes."""
        self.volumes[volume] = target
        self.plan.mounts.setdefault(volume, {})[self.name] = target

    def _volumes(self) -> None:
        for index, mount in enumerate(self.spec.get("volumes") or []):
            kind, source, target = mount.get("type"), mount.get("source"), mount.get("target")
            key = f"volumes[{index}]"
            if not re.match(ABS_PATH, str(target)):
                self.say(
                    Verdict.REFUSED,
                    key,
                    f"{target!r}: a path of plain characters only",
                    "volumes",
                    index,
                )
            elif kind == "volume" and source:
                name = config_name(source)
                problem = name_problem(name)
                if problem is not None:
                    self.say(Verdict.REFUSED, key, f"volume {problem}", "volumes", index)
                    continue
                self._mount(name, target)
                self.say(
                    Verdict.MAPPED,
                    key,
                    f"{source}:{target} -> a durable EFS volume {name}",
                    "volumes",
                    index,
                )
                if mount.get("read_only"):
                    self.say(
                        Verdict.NOTE,
                        key,
                        "read-only under compose, writable here",
                        "volumes",
                        index,
                    )
            elif kind == "volume" or kind == "tmpfs":
                self._add_scratch(target, key, "volumes", index)
            elif kind == "bind":
                data = self._bind(key, str(source), index)
                if data is not None:
                    self._mount(data, target)
            else:
                self.say(
                    Verdict.REFUSED,
                    key,
                    f"a {kind} mount has no Fargate equivalent",
                    "volumes",
                    index,
                )
        if self.volumes:
            self.body["volumes"] = self.volumes

    def _bind(self, key: str, source: str, index: int) -> str | None:
        """A host directory: inside the service's build context it is its source code,
        mounted for development (dropped); elsewhere it holds data, which becomes a
        durable volume of the directory's name (returned)."""
        host = Path(source)
        shown = os.path.relpath(host, self.plan.project.directory)
        context = (self.spec.get("build") or {}).get("context")
        if host.name == "docker.sock":
            self.say(
                Verdict.REFUSED, key, f"{source}: Fargate has no Docker engine", "volumes", index
            )
        elif host.is_file():
            self.say(
                Verdict.REFUSED,
                key,
                f"{shown} is a single file (a config file?): "
                "bake it into the image (COPY in its Dockerfile)",
                "volumes",
                index,
            )
        elif context and host.resolve().is_relative_to(Path(context).resolve()):
            self.say(
                Verdict.DROPPED,
                key,
                f"{shown}: the service's own source, mounted for development: the image has it",
                "volumes",
                index,
            )
        else:
            name = config_name(host.name)
            problem = name_problem(name)
            if problem is None:
                self.say(
                    Verdict.NOTE,
                    key,
                    f"{shown}: a host directory for data -> a durable "
                    f"EFS volume {name}, empty at first (copy the data in)",
                    "volumes",
                    index,
                )
                return name
            self.say(Verdict.REFUSED, key, f"{shown}: as a volume, {problem}", "volumes", index)
        return None

    def _add_scratch(self, path: str, key: str, *where: str | int) -> None:
        if not re.match(ABS_PATH, path):
            self.say(Verdict.REFUSED, key, f"{path!r}: a path of plain characters only", *where)
            return
        self.scratch.append(path)
        self.say(Verdict.MAPPED, key, f"{path} -> scratch (empty at each task start)", *where)

    # --- health and exposure -----------------------------------------------------

    def _health_check(self) -> None:
        check = self.spec.get("healthcheck")
        if not check:
            return
        test = check.get("test") or []
        if check.get("disable") or test[:1] == ["NONE"]:
            self.say(Verdict.DROPPED, "healthcheck", "disabled: no container health check")
            return
        if not test:  # tunes the image's HEALTHCHECK, which ECS does not run
            self.say(Verdict.DROPPED, "healthcheck", "no test: ECS does not run the image's "
                     "HEALTHCHECK; give test: to have a container health check")  # fmt: skip
            return
        command: list[str] | str = test[1] if test[0] == "CMD-SHELL" else list(test[1:])
        out: dict[str, Any] = {"command": command}
        bounds = {
            "interval": ("interval_seconds", 5, 300),
            "timeout": ("timeout_seconds", 2, 60),
            "start_period": ("start_period_seconds", 0, 300),
        }
        for key, (ours, low, high) in bounds.items():
            if key not in check:
                continue
            value = seconds(check[key])
            if value is None:
                continue
            fitted = min(max(value, low), high)
            if fitted != value:
                self.say(
                    Verdict.NOTE,
                    f"healthcheck.{key}",
                    f"{check[key]} -> {fitted} s (ECS takes {low}-{high} s)",
                    "healthcheck",
                )
            out[ours] = fitted
        if "retries" in check:
            out["retries"] = min(max(int(check["retries"]), 1), 10)
        if "start_interval" in check:
            self.say(
                Verdict.DROPPED,
                "healthcheck.start_interval",
                "ECS has no such setting",
                "healthcheck",
            )
        self.body["health_check"] = out
        self.say(Verdict.MAPPED, "healthcheck", "-> health_check")

    def _public(self) -> None:
        if self.name not in self.plan.public:
            return
        public: dict[str, Any] = {"listener_port": 80}
        path = _health_path(self.spec.get("healthcheck") or {})
        public["health_check_path"] = path or "/"
        self.body["public"] = public
        why = (
            "named by --public"
            if self.name in self.plan.forced_public
            else "publishes a port that no other service reaches"
        )
        self.say(
            Verdict.MAPPED,
            "ports",
            f"{why} -> public: an application load balancer on "
            f"port 80 to {self.plan.ports[self.name]}, health check GET "
            f"{public['health_check_path']}"
            + ("" if path else " (set public.health_check_path to a page that answers 200)"),
        )

    # --- extensions and the rest -----------------------------------------------

    def _extensions(self) -> None:
        for key in sorted(k for k in self.spec if k.startswith("x-")):
            value = self.spec[key]
            if key == "x-aws-autoscaling":
                self._autoscaling(value)
            elif key == "x-aws-pull_credentials":
                if re.match(SECRET, str(value)):
                    self.body["pull_credentials"] = value
                    self.say(Verdict.MAPPED, key, "-> pull_credentials")
                else:
                    self.say(
                        Verdict.REFUSED,
                        key,
                        f"{value!r}: ECS needs the secret's complete ARN (ending in -XXXXXX)",
                    )
            elif (reason := extension_verdict(key)) is not None:
                self.say(Verdict.REFUSED, key, reason)
            else:
                self.say(Verdict.DROPPED, key, EXTENSION_DROPPED)

    def _autoscaling(self, value: dict[str, Any]) -> None:
        key = "x-aws-autoscaling"
        if self.body.get("stateful"):
            self.say(Verdict.DROPPED, key, "a database or cache runs one task")
            return
        if "memory" in value and "cpu" not in value:
            self.say(Verdict.REFUSED, key, "memory: scaling tracks CPU here; use cpu:")
            return
        low, high = int(value.get("min", 1)), int(value.get("max", 1))
        cpu = min(max(int(value.get("cpu", 60)), 10), 90)
        self.body["autoscaling"] = {
            "min": max(low, 1),
            "max": max(high, low, 1),
            "cpu_percent": cpu,
        }
        self.say(Verdict.MAPPED, key, f"-> autoscaling: {self.body['autoscaling']}")

    def _other_keys(self) -> None:
        handled = MAPPED | X_AWS_MAPPED
        for key in self.spec:
            if key in handled or key.startswith("x-") or self.spec[key] in (None, {}, []):
                continue
            if key in DROPPED:
                if key == "networks" and list(self.spec[key]) == ["default"]:
                    continue
                self.say(Verdict.DROPPED, key, DROPPED[key])
            elif key in REFUSED:
                if key == "privileged" and not self.spec[key]:
                    continue
                self.say(Verdict.REFUSED, key, REFUSED[key])
            else:
                self.say(
                    Verdict.REFUSED, key, "no equivalent in this config; remove it or ask for it"
                )


# A health check that fetches a local URL names the path the load balancer can check.
_LOCAL_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1)(?::\d+)?(/[A-Za-z0-9._~/-]*)")


def _health_path(check: dict[str, Any]) -> str | None:
    found = _LOCAL_URL.search(" ".join(map(str, check.get("test") or [])))
    return found.group(1) if found else None


def service_body(plan: Plan, name: str) -> dict[str, Any]:
    """``services.<name>`` of base.yaml for compose service ``name``."""
    return _Service(plan, name).map()


__all__ = ["Plan", "service_body"]
