"""The imported config as YAML text: stable key order, each service with its source line."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from infra.config.model import ServiceConfig

HEADERS = {
    "base": "# Imported from {source} by `python -m infra import`; each service says where it\n"
    '# came from. Every key, its default and values: "Configuration reference" in README.md.\n',
    "dev": "# Development: cheap, and easy to tear down: no NAT (tasks in public subnets with\n"
    "# public IPs), stateless services on Fargate Spot, logs and volumes go with the stacks.\n",
    "prod": "# Production: two zones of egress, logs kept two years and beyond the stacks,\n"
    "# protected stacks and load balancers, two tasks for each stateless public service.\n",
}
# A service's keys in the order the config reference lists them (the model's).
SERVICE_KEYS = list(ServiceConfig.model_fields)


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True
    )


def _ordered(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in SERVICE_KEYS if key in body}


def render(kind: str, data: dict[str, Any], origins: dict[str, str], source: str) -> str:
    """``base``, ``dev`` or ``prod`` as YAML; base's services each under a
    ``# from FILE:LINE`` comment."""
    text = HEADERS[kind].format(source=source)
    rest = {k: v for k, v in data.items() if k != "services"}
    if rest:
        text += "\n" + "\n".join(_dump({k: v}) for k, v in rest.items())
    services = data.get("services")
    if services:
        text += "\nservices:\n"
        blocks = []
        for name, body in services.items():
            comment = f"# from {origins[name]}\n" if kind == "base" else ""
            shown = _ordered(body) if kind == "base" else body
            blocks.append(textwrap.indent(comment + _dump({name: shown}), "  "))
        text += "\n".join(blocks)
    return text
