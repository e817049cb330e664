"""A loaded compose project as base.yaml, dev.yaml and prod.yaml, with its report.

The project-wide decisions come first, each reported: config names, each
service's port, who connects to whom (``depends_on``, ``links`` and host names
in environment values), which services are public (they publish a port that
no other service reaches; databases and caches only when ``--public`` names
them), which have a generated password. Then each service's keys
(:mod:`infra.compose.service`), then the volumes they share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from itertools import combinations
from typing import Any

from infra.compose import hosts
from infra.compose.fit import (
    DATASTORE_PORTS,
    config_name,
    image_owner,
    known_image,
    name_problem,
)
from infra.compose.keys import EXTENSION_DROPPED, extension_verdict
from infra.compose.managed import apply as apply_managed
from infra.compose.managed import managed_in_prod
from infra.compose.project import Project
from infra.compose.report import Report, Verdict
from infra.compose.service import Plan, service_body
from infra.config.injected import peer_variables
from infra.config.model import LOG_RETENTION_DAYS, ClusterConfig, LoggingConfig, NetworkConfig

# The config's own defaults, written out so the imported files show them.
NETWORK = NetworkConfig()
CLUSTER = ClusterConfig()
NAMESPACE = CLUSTER.namespace
MIN_RETENTION_DAYS = LoggingConfig().retention_days  # a year: Control Tower's CT.CLOUDWATCH.PR.2
PROD_RETENTION_DAYS = 731  # two years: prod keeps logs longer than Control Tower's minimum


@dataclass(frozen=True)
class Imported:
    """The three config files (as data), each service's source line, and the report."""

    files: dict[str, dict[str, Any]]
    origins: dict[str, str]  # config service name -> "compose.yaml:LINE"
    report: Report


def convert(
    project: Project,
    app: str | None = None,
    public: Iterable[str] = (),
    managed: Mapping[str, str] | None = None,
) -> Imported:
    """The config of ``project``; refusals are in the report (nothing is meant to be
    written when there are any)."""
    report = Report()
    sources = project.sources
    services = sorted(project.services, key=lambda n: (sources.line_of_service(n), n))
    app_name = config_name(app or project.name)
    problem = name_problem(app_name, fix="name the app with --app NAME", stack_part=False)
    if problem is not None:
        report.add(Verdict.REFUSED, sources.at(("name",)), None, "name", f"the app name {problem}")
    names = _names(project, services, report)
    forced = _forced_public(public, services, names, report)
    retention = _top_level(project, report)
    ecs_hosts = {s: f"{names[s]}.{NAMESPACE}" for s in services}
    hostnames = _hostnames(project)
    environments = {
        s: {
            variable: hosts.rewrite(variable, str(value), hostnames, ecs_hosts.__getitem__)
            for variable, value in (project.services[s].get("environment") or {}).items()
            if value is not None
        }
        for s in services
    }
    ports = {s: _port(project, s, report) for s in services}
    edges = {s: _edges(project, s, environments[s], ports, report) for s in services}
    _check_cycles(project, edges, report)
    public_services = _public(project, services, edges, ports, forced, report)
    plan = Plan(
        project=project,
        report=report,
        app=app_name,
        names=names,
        ecs_hosts=ecs_hosts,
        environments=environments,
        ports=ports,
        edges=edges,
        public=public_services,
        forced_public=forced,
        auth=_auth(project, services, edges, names),
    )
    bodies = {names[s]: service_body(plan, s) for s in services}
    volumes = _volumes(plan, bodies)
    _shared_networks(project, edges, report)
    base: dict[str, Any] = {
        "app": app_name,
        "network": NETWORK.model_dump(mode="json"),
        "cluster": {"namespace": NAMESPACE, "container_insights": CLUSTER.container_insights},
        "logging": {"retention_days": retention, "removal_policy": "retain"},
    }
    if volumes:
        base["storage"] = {"removal_policy": "retain", "volumes": volumes}
    base["services"] = bodies
    # Dev costs little: no NAT (tasks get public IPs) and stateless services on Spot.
    dev: dict[str, Any] = {"network": {"nat_gateways": 0}, "logging": {"removal_policy": "destroy"}}
    if volumes:
        dev["storage"] = {"removal_policy": "destroy"}
    spot = {
        name: {"capacity": {"spot": True}} for name, b in bodies.items() if not b.get("stateful")
    }
    if spot:
        dev["services"] = spot
    origins = {names[s]: "{}:{}".format(*sources.line_of_service(s)) for s in services}
    files = {"base": base, "dev": dev, "prod": _prod(plan, bodies, retention)}
    images = {s: project.services[s].get("image") for s in services}
    where = {s: sources.at(("services", s, "image")) for s in services}
    chosen = managed_in_prod(
        managed or {}, images, names, where, report, environments, ecs_hosts, sources
    )
    apply_managed(chosen, files, plan.mounts, names)
    return Imported(files=files, origins=origins, report=report)


def _names(project: Project, services: list[str], report: Report) -> dict[str, str]:
    names: dict[str, str] = {}
    for service in services:
        name = config_name(service)
        where = project.sources.at(("services", service))
        problem = name_problem(name)
        if problem is not None:
            report.add(Verdict.REFUSED, where, service, "(name)", problem)
        elif name in names.values():
            report.add(
                Verdict.REFUSED,
                where,
                service,
                "(name)",
                f"becomes {name!r}, as another service does; rename one in the compose file",
            )
        elif name != service:
            report.add(Verdict.NOTE, where, service, "(name)", f"-> {name} (a DNS label)")
        names[service] = name
    return names


def _forced_public(
    public: Iterable[str], services: list[str], names: dict[str, str], report: Report
) -> set[str]:
    by_either = {**{n: n for n in services}, **{names[n]: n for n in services}}
    forced = set()
    for name in public:
        if name not in by_either:
            report.add(
                Verdict.REFUSED,
                "--public",
                None,
                name,
                f"no such service; the services are {', '.join(services)}",
            )
        else:
            forced.add(by_either[name])
    return forced


def _top_level(project: Project, report: Report) -> int:
    """Top-level extensions; returns the log retention (days)."""
    retention = MIN_RETENTION_DAYS
    for key in sorted(k for k in project.model if k.startswith("x-")):
        where = project.sources.at((key,))
        if key == "x-aws-logs_retention":
            days = int(project.model[key])
            if days in LOG_RETENTION_DAYS and days >= MIN_RETENTION_DAYS:
                retention = days
                report.add(Verdict.MAPPED, where, None, key, f"-> logging.retention_days: {days}")
            else:
                report.add(
                    Verdict.NOTE,
                    where,
                    None,
                    key,
                    f"{days} days -> "
                    f"{MIN_RETENTION_DAYS}: Control Tower (CT.CLOUDWATCH.PR.2) asks "
                    "for a year",
                )
        elif (reason := extension_verdict(key)) is not None:
            report.add(Verdict.REFUSED, where, None, key, reason)
        else:
            report.add(Verdict.DROPPED, where, None, key, EXTENSION_DROPPED)
    return retention


def _hostnames(project: Project) -> dict[str, str]:
    """Each name a service answers to under compose (its own, link and network
    aliases), lowercase -> the service."""
    found = {name.lower(): name for name in project.services}
    for spec in project.services.values():
        for link in spec.get("links") or []:
            target, _, alias = str(link).partition(":")
            if alias and target in project.services:
                found.setdefault(alias.lower(), target)
    for name, spec in project.services.items():
        for network in (spec.get("networks") or {}).values():
            for alias in (network or {}).get("aliases") or []:
                found.setdefault(str(alias).lower(), name)
    return found


def _port(project: Project, service: str, report: Report) -> int | None:
    """The container port: the first published (not 443, which the load balancer
    serves), else the first exposed, else a database's or cache's own."""
    spec = project.services[service]
    where = project.sources.at(("services", service, "ports"))
    ports = spec.get("ports") or []
    udp = [p for p in ports if p.get("protocol", "tcp") != "tcp"]
    for entry in udp:
        report.add(
            Verdict.REFUSED,
            where,
            service,
            "ports",
            f"{entry['target']}/{entry['protocol']}: the load balancers here carry TCP only",
        )
    targets = list(dict.fromkeys(int(p["target"]) for p in ports if p not in udp))
    if targets:
        chosen = next((t for t in targets if t != 443), targets[0])
        report.add(
            Verdict.MAPPED, where, service, "ports", f"-> port: {chosen} (the container side)"
        )
        for other in targets:
            if other != chosen:
                report.add(
                    Verdict.DROPPED,
                    where,
                    service,
                    "ports",
                    f"{other}: one port per "
                    "service (HTTPS: public.certificate_arn on the load balancer)",
                )
        return chosen
    exposed = [str(e) for e in spec.get("expose") or []]
    if exposed:
        first = re.match(r"\d+", exposed[0])
        if first is not None:
            where = project.sources.at(("services", service, "expose"))
            report.add(Verdict.MAPPED, where, service, "expose", f"-> port: {first.group()}")
            return int(first.group())
    known = known_image(spec.get("image"))
    where = project.sources.at(("services", service))
    if known is not None:
        report.add(
            Verdict.NOTE,
            where,
            service,
            "(port)",
            f"none published or exposed: {known.port}, the {spec['image']} image's own",
        )
        return known.port
    report.add(
        Verdict.NOTE,
        where,
        service,
        "(port)",
        "none published or exposed: a worker (no load balancer, no name, reached by nothing)",
    )
    return None


def _edges(
    project: Project,
    service: str,
    environment: dict[str, hosts.Rewritten],
    ports: dict[str, int | None],
    report: Report,
) -> list[str]:
    """The services ``service`` reaches: depends_on, links, and hosts in its environment."""
    spec = project.services[service]
    sources = project.sources
    found: dict[str, str] = {}  # peer -> how
    for peer, condition in (spec.get("depends_on") or {}).items():
        found.setdefault(peer, "depends_on")
        wait = (condition or {}).get("condition", "service_started")
        if wait != "service_started":
            report.add(
                Verdict.NOTE,
                sources.at(("services", service, "depends_on", peer)),
                service,
                f"depends_on.{peer}",
                f"condition {wait}: ECS starts services "
                "on their own; the app must retry until its peer answers",
            )
    for link in spec.get("links") or []:
        found.setdefault(str(link).partition(":")[0], "links")
    for variable, rewritten in environment.items():
        for peer in sorted(rewritten.peers):  # a set: sorted, so the output is stable
            found.setdefault(peer, f"environment.{variable}")
    edges = []
    for peer, how in found.items():
        where = sources.at(("services", service))
        if peer == service or peer not in project.services:
            continue
        if ports[peer] is None:
            report.add(
                Verdict.DROPPED,
                where,
                service,
                how,
                f"{peer} has no port (ports: or "
                "expose:): nothing to connect to; ECS does not order services",
            )
            continue
        edges.append(peer)
        report.add(
            Verdict.MAPPED,
            where,
            service,
            how,
            f"-> connects_to: {peer} (its security group admits this one on its port)",
        )
    return edges


def _check_cycles(project: Project, edges: dict[str, list[str]], report: Report) -> None:
    try:
        tuple(TopologicalSorter(edges).static_order())
    except CycleError as error:
        cycle = list(error.args[1])
        first = cycle[0]
        report.add(
            Verdict.REFUSED,
            project.sources.at(("services", first)),
            first,
            "connects_to",
            f"a cycle ({' -> '.join(cycle)}): each service's stack "
            "deploys after those it connects to; break one edge",
        )


def _public(
    project: Project,
    services: list[str],
    edges: dict[str, list[str]],
    ports: dict[str, int | None],
    forced: set[str],
    report: Report,
) -> set[str]:
    reached = {peer for peers in edges.values() for peer in peers}
    public = set()
    for service in services:
        spec = project.services[service]
        where = project.sources.at(("services", service, "ports"))
        published = any(p.get("published") for p in spec.get("ports") or [])
        datastore = known_image(spec.get("image")) is not None or ports[service] in DATASTORE_PORTS
        if service in forced:
            if ports[service] is None:
                report.add(Verdict.REFUSED, where, service, "--public", "has no port to serve")
            else:
                public.add(service)
        elif published and datastore:
            report.add(
                Verdict.NOTE,
                where,
                service,
                "ports",
                "published locally; a database "
                "or cache is never public here (--public would make it so)",
            )
        elif published and service in reached:
            report.add(
                Verdict.NOTE,
                where,
                service,
                "ports",
                "published locally, and reached "
                "by other services: internal here (--public would expose it)",
            )
        elif published:
            public.add(service)
    return public


def _auth(
    project: Project, services: list[str], edges: dict[str, list[str]], names: dict[str, str]
) -> set[str]:
    """Services whose password is generated: those that set ``<NAME>_PASSWORD`` for
    themselves, or that a consumer expects one of under that name."""
    auth = set()
    for service in services:
        own = peer_variables(names[service]).password
        if own in (project.services[service].get("environment") or {}):
            auth.add(service)
        for peer in edges[service]:
            if peer_variables(names[peer]).password in (
                project.services[service].get("environment") or {}
            ):
                auth.add(peer)
    return auth


def _volumes(plan: Plan, bodies: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``storage.volumes``: each named volume, shared when several mount it, with an
    owner where the services run as their image's user."""
    project, report = plan.project, plan.report
    declared = project.model.get("volumes") or {}
    by_config = {config_name(k): (k, v or {}) for k, v in declared.items()}
    out: dict[str, dict[str, Any]] = {}
    for volume, mounts in plan.mounts.items():
        source, definition = by_config.get(volume, (volume, {}))
        where = project.sources.at(("volumes", source))
        entry: dict[str, Any] = {}
        if len(mounts) > 1:
            entry["shared"] = True
            report.add(
                Verdict.NOTE,
                where,
                None,
                f"volumes.{source}",
                f"mounted by {', '.join(mounts)}: shared",
            )
        if definition.get("external"):
            report.add(
                Verdict.NOTE,
                where,
                None,
                f"volumes.{source}",
                "external: its data does not move; a new, empty EFS volume is created",
            )
        users = {s: bodies[plan.names[s]]["user"] for s in mounts}
        if "image" in users.values():
            service = next(s for s, u in users.items() if u == "image")
            image = str(project.services[service].get("image") or "")
            owner = image_owner(image)
            if owner is None:
                report.add(
                    Verdict.REFUSED,
                    where,
                    service,
                    "user",
                    f"mounts {source} as the "
                    "image's user, whose uid is unknown: set user: UID:GID in the "
                    "compose file (the uid the image writes as)",
                )
            else:
                entry["owner"] = owner
                report.add(
                    Verdict.NOTE,
                    where,
                    None,
                    f"volumes.{source}",
                    f"owned by {entry['owner']}, the uid:gid {image} writes as",
                )
        elif len(set(users.values())) > 1:
            report.add(
                Verdict.REFUSED,
                where,
                None,
                f"volumes.{source}",
                f"mounted by "
                f"services running as {', '.join(sorted(set(users.values())))}: give "
                "them one uid:gid",
            )
        out[volume] = entry
    return out


def _shared_networks(project: Project, edges: dict[str, list[str]], report: Report) -> None:
    """Least privilege: services on one compose network without an edge get no rule."""
    networks = {
        s: set(spec.get("networks") or {"default": None}) for s, spec in project.services.items()
    }
    for one, other in combinations(sorted(project.services), 2):
        shared = networks[one] & networks[other]
        if shared and other not in edges[one] and one not in edges[other]:
            report.add(
                Verdict.NOTE,
                project.sources.at(("services", one)),
                None,
                f"networks.{sorted(shared)[0]}",
                f"{one} and {other} share it but "
                "neither names the other: no rule between them here (add connects_to "
                "if one calls the other)",
            )


def _prod(plan: Plan, bodies: dict[str, dict[str, Any]], retention: int) -> dict[str, Any]:
    """What a careful prod differs in: two zones of egress, logs kept longer and
    outliving the stacks, protected stacks and load balancers, two tasks or more
    for each stateless public service."""
    services: dict[str, Any] = {}
    for service in sorted(plan.public):
        name = plan.names[service]
        body = bodies.get(name, {})
        if body.get("stateful"):
            continue
        entry: dict[str, Any] = {}
        scaling = body.get("autoscaling")
        if scaling is not None:
            low = max(scaling["min"], 2)
            entry["autoscaling"] = {**scaling, "min": low, "max": max(scaling["max"], low)}
        else:
            entry["desired_count"] = max(body.get("desired_count", 1), 2)
        entry["public"] = {"deletion_protection": True}
        services[name] = entry
    prod: dict[str, Any] = {
        "termination_protection": True,
        "network": {"nat_gateways": 2},
        "logging": {
            "retention_days": max(retention, PROD_RETENTION_DAYS),
            "removal_policy": "retain",
        },
    }
    if services:
        prod["services"] = services
    return prod
