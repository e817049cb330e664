"""How ``cost`` shows its estimate: one env as items with quantities, several side by side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from infra.ops.cost import Line, Prices, by_item, item_order, total


@dataclass(frozen=True)
class CostTable:
    """A table ready for :func:`infra.ops.render.table`."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    right: tuple[int, ...]  # the number columns


def as_table(lines: Mapping[str, list[Line]], prices: Prices) -> CostTable:
    """One env: item, quantity, cost. Several: one cost column per env, ``-`` where absent."""
    envs = list(lines)
    items: dict[str, dict[str, Line]] = {}
    for env, found in lines.items():
        for item, line in by_item(found).items():
            items.setdefault(item, {})[env] = line
    # An item of one env only (its Spot tasks, say) takes its place among the others'.
    items = dict(sorted(items.items(), key=lambda kv: item_order(kv[0])))
    title = f"always-on cost, {prices.region} prices taken {prices.taken}"
    if len(envs) == 1:
        (env,) = envs
        rows = [[item, by_env[env].quantity, f"{by_env[env].monthly:,.2f}"]
                for item, by_env in items.items()]  # fmt: skip
        rows.append(["total", "", f"{total(lines[env]):,.2f}"])
        return CostTable(title, ["item", "quantity", "USD/month"], rows, (2,))
    rows = [[item, *(f"{by_env[e].monthly:,.2f}" if e in by_env else "-" for e in envs)]
            for item, by_env in items.items()]  # fmt: skip
    rows.append(["total", *(f"{total(lines[e]):,.2f}" for e in envs)])
    headers = ["item", *(f"{e} USD/month" for e in envs)]
    return CostTable(title, headers, rows, tuple(range(1, len(envs) + 1)))


def as_json(lines: Mapping[str, list[Line]], prices: Prices) -> dict[str, Any]:
    """Every line of every env, each env's total, and what the prices leave out."""
    report = {
        env: {"lines": [asdict(x) for x in found], "total": round(total(found), 2)}
        for env, found in lines.items()
    }
    return {"region": prices.region, "prices_taken": prices.taken, "envs": report,
            "not_included": prices.not_included}  # fmt: skip
