"""``import --managed db=postgres,cache=valkey``: which services prod runs as managed engines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.compose.fit import engine_repository
from infra.compose.hosts import Rewritten
from infra.compose.report import Report, Verdict
from infra.config.engines import ENGINES
from infra.config.injected import peer_variables

# The engine a known image's data can move to, by the image's kind and repository.
ENGINE_OF = {"redis": "valkey", "valkey": "valkey", "postgres": "postgres", "postgis": "postgres"}


def parse_managed(text: str) -> dict[str, str]:
    """``db=postgres,cache=valkey`` as {service: engine}; ValueError names a bad part."""
    found: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        service, _, engine = part.partition("=")
        if not service or engine not in ENGINES:
            raise ValueError(
                f"--managed {part!r}: write SERVICE=ENGINE, ENGINE one of {', '.join(ENGINES)}"
            )
        found[service] = engine
    return found


def managed_in_prod(
    asked: Mapping[str, str],
    images: Mapping[str, str | None],
    names: Mapping[str, str],
    where: Mapping[str, str],
    report: Report,
    environments: Mapping[str, Mapping[str, Rewritten]],
    hosts: Mapping[str, str],
    sources: Any,
) -> dict[str, str]:
    """The config names and engines of the services ``asked`` makes managed in prod,
    each checked against its image and its consumers; a note on each datastore that
    could be, but is not.

    A consumer that names the service's host in a variable of its own (gitea's
    ``GITEA__database__HOST``) would not reach it in prod: a managed engine has its
    own endpoint, given only as ``<NAME>_HOST``; that is refused. Users and databases
    the container's image would create (``POSTGRES_USER``, ``POSTGRES_DB``) are noted:
    Aurora makes only its master user and the ``postgres`` database."""
    chosen: dict[str, str] = {}
    for service, engine in asked.items():
        if service not in images:
            report.add(Verdict.REFUSED, "--managed", service, "(name)",
                       f"no service {service!r}; services: {', '.join(images)}")  # fmt: skip
            continue
        fits = ENGINE_OF.get(engine_repository(images[service]) or "")
        if fits != engine:
            report.add(Verdict.REFUSED, where[service], service, "image",
                       f"{images[service]} cannot move to {ENGINES[engine].title}"
                       f"{f'; {fits} can' if fits else ''}")  # fmt: skip
            continue
        # <NAME>_HOST and _PORT are the infrastructure's (the import drops them): fine.
        injected = peer_variables(names[service])
        literal = [
            (consumer, variable)
            for consumer, variables in environments.items()
            for variable, value in variables.items()
            if service in value.peers and variable not in (injected.host, injected.port)
        ]
        for consumer, variable in literal:
            report.add(Verdict.REFUSED, sources.at(("services", consumer, "environment",
                                                    variable)), consumer,
                       f"environment.{variable}", f"names {hosts[service]}, which {service} "
                       "does not have once managed: the app must read "
                       f"{injected.host} and _PORT (or leave "
                       f"{service} a container: drop --managed {service}=...)")  # fmt: skip
        if literal:
            continue
        own = {k: v.value for k, v in environments.get(service, {}).items()}
        for variable in ("POSTGRES_USER", "POSTGRES_DB"):
            if engine == "postgres" and own.get(variable) not in (None, "postgres"):
                report.add(Verdict.NOTE, where[service], service, f"environment.{variable}",
                           f"{own[variable]}: Aurora makes only the postgres user and "
                           "database; create this one after the first deploy (psql over "
                           "TLS with the master password)")  # fmt: skip
        chosen[names[service]] = engine
        speaks = (
            "TLS (and keeps the keys of one transaction in one hash slot: the cache runs in "
            "cluster mode)"
            if engine == "valkey"
            else "TLS (sslmode=require)"
        )
        report.add(Verdict.NOTE, where[service], service, "image",
                   f"prod: its consumers must connect over {speaks}; they get {injected.tls}=true "
                   "there")  # fmt: skip
        report.add(Verdict.MAPPED, where[service], service, "image",
                   f"-> prod.yaml: managed: {engine} ({ENGINES[engine].title}) replaces the "
                   "container, which dev keeps; its data does not move (README: Managed "
                   "backends)")  # fmt: skip
    for service, image in images.items():
        fits = ENGINE_OF.get(engine_repository(image) or "")
        if fits and service not in asked:
            report.add(Verdict.NOTE, where[service], service, "image",
                       f"prod could run it as {ENGINES[fits].title}: --managed "
                       f"{service}={fits}")  # fmt: skip
    return chosen


def apply(
    chosen: Mapping[str, str],
    files: dict[str, dict[str, Any]],
    mounts: Mapping[str, Iterable[str]],
    names: Mapping[str, str],
) -> None:
    """prod.yaml's ``managed:`` for each chosen service (base keeps its container, for
    dev), and the volumes only those services mount listed in dev.yaml, not base.yaml:
    prod mounts them nowhere."""
    if not chosen:
        return
    prod_services = files["prod"].setdefault("services", {})
    for name, engine in chosen.items():
        prod_services[name] = {"managed": engine}
    storage = files["base"].get("storage", {})
    listed = storage.get("volumes", {})
    for volume, users in mounts.items():
        if volume in listed and {names[u] for u in users} <= set(chosen):
            settings = listed.pop(volume)
            if settings:  # an empty entry: mounting it in dev makes it all the same
                files["dev"].setdefault("storage", {}).setdefault("volumes", {})[volume] = settings
    if "volumes" in storage and not listed:
        del storage["volumes"]
