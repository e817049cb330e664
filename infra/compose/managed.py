"""``import --managed db=postgres,cache=valkey``: which services prod runs as managed engines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.compose.fit import engine_repository
from infra.compose.report import Report, Verdict
from infra.config.engines import ENGINES

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
) -> dict[str, str]:
    """The config names and engines of the services ``asked`` makes managed in prod,
    each checked against its image; a note on each datastore that could be, but is not."""
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
        chosen[names[service]] = engine
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
