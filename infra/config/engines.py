"""The managed engines a service can be (``managed:``), and what each one takes.

One place answers it: the config rules check a service's keys against these,
the stacks build each engine's resources, and ``cost`` prices them.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.names import physical_name


@dataclass(frozen=True)
class Engine:
    """A managed engine: what AWS calls it, the port it listens on, and its limits."""

    name: str
    title: str
    port: int
    # Backups or snapshots kept: the fewest days the engine allows.
    min_retention_days: int
    # The keys of ``managed:`` that mean something for this engine.
    settings: frozenset[str]


ENGINES = {
    "valkey": Engine(
        "valkey", "ElastiCache Serverless for Valkey", 6379, 0, frozenset({"max_storage_gb"})
    ),
    "postgres": Engine(
        "postgres",
        "Aurora Serverless v2 for PostgreSQL",
        5432,
        1,
        frozenset({"min_capacity", "max_capacity"}),
    ),
}
# Every engine-specific key of ``managed:`` (the rest apply to all engines).
ENGINE_SETTINGS = frozenset().union(*(e.settings for e in ENGINES.values()))
# Aurora cluster identifiers: at most 63 characters.
IDENTIFIER_LIMIT = 63


def aurora_identifier(stack_name: str) -> str:
    """The Aurora cluster's identifier: its stack's name, cut to fit."""
    return physical_name(stack_name, IDENTIFIER_LIMIT)


def aurora_log_group(stack_name: str) -> str:
    """Where Aurora writes the PostgreSQL log of the cluster in ``stack_name``."""
    return f"/aws/rds/cluster/{aurora_identifier(stack_name)}/postgresql"


# Aurora Serverless v2: capacity in steps of half an ACU; 0 pauses the writer when idle.
DEFAULT_MIN_ACU = 0.0
DEFAULT_MAX_ACU = 4.0
