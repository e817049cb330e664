"""The operator CLI, ``python -m infra``: config show, preview and cost, run for real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from infra.config import load_with_origins
from infra.ops import cost, cost_report
from infra.ops.show import annotated_yaml
from tests.infra.conftest import Synth
from tests.support.cli import run

pytestmark = pytest.mark.end_to_end

# --- config show -------------------------------------------------------------------


def origins_of(text: str, line_start: str) -> set[str]:
    """The origins on every line that starts (after indentation) with ``line_start``."""
    return {line.rsplit("# ", 1)[1] for line in text.splitlines()
            if line.strip().startswith(line_start)}  # fmt: skip


def origin_of(text: str, line_start: str) -> str:
    (origin,) = origins_of(text, line_start)
    return origin


def test_config_show_names_where_each_value_came_from() -> None:
    variable = "APP_CONFIG__SERVICES__FRONTEND__DESIRED_COUNT"
    config, origins = load_with_origins("prod", environ={variable: "3"})
    text = annotated_yaml(config, origins)
    assert origin_of(text, "app: timestamper") == "config/base.yaml"  # a base key
    assert origin_of(text, "nat_gateways: 2") == "config/prod.yaml"  # an env override
    # prod autoscales the frontend, so its desired_count does nothing: show says so.
    assert origin_of(text, "desired_count: 3") == (
        f"environment variable {variable} (ignored: autoscaling)"
    )
    assert origin_of(text, "desired_count: 1") == "config/base.yaml"  # the backend's
    assert origin_of(text, "cidr:") == "config/base.yaml"
    assert origin_of(text, "cpu_percent: 60") == "config/prod.yaml"  # inside a prod-only mapping
    assert origins_of(text, "exec: false") == {"default"}  # not set anywhere
    assert origins_of(text, "interval_seconds: 30") == {"default"}
    # The annotated text is still the config, as YAML.
    assert yaml.safe_load(text) == config.model_dump(mode="json")


def test_config_show_cli_and_its_errors() -> None:
    shown = run("config", "show", "--env", "prod")
    assert shown.returncode == 0, shown.stderr
    assert "termination_protection: true" in shown.stdout
    bad = run("config", "show", "--env", "staging")
    assert bad.returncode == 2
    assert "unknown env 'staging'" in bad.stderr and "Traceback" not in bad.stderr
    variable = "APP_CONFIG__SERVICES__FRONTEND__MEMORY"
    wrong = run("config", "show", "--env", "dev", env={**os.environ, variable: "4096"})
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert f"environment variable {variable}: services.frontend.memory: 4096" in wrong.stderr


# --- cost --------------------------------------------------------------------------


def test_cost_matches_a_hand_computed_estimate(synths: dict[str, Synth]) -> None:
    prices = cost.Prices.load()
    assert (prices.region, prices.hours_per_month) == ("us-east-1", 730)
    lines = cost.by_item(cost.estimate(synths["prod"].templates, prices))
    monthly = {item: round(line.monthly, 4) for item, line in lines.items()}
    # By hand, from prices.yaml: 730 hours; x86 Fargate 0.04048/vCPU-h, 0.004445/GB-h.
    assert monthly == {
        "Fargate backend": round(1 * (0.25 * 0.04048 + 0.5 * 0.004445) * 730, 4),  # 9.0100
        "Fargate frontend": round(
            2 * (0.5 * 0.04048 + 1 * 0.004445) * 730, 4
        ),  # 36.0401, autoscaling min 2
        "load balancer (application)": round(0.0225 * 730, 4),  # 16.425
        "NAT gateways": round(2 * 0.045 * 730, 4),  # 65.70
        "public IPv4 addresses": round(4 * 0.005 * 730, 4),  # 2 NAT EIPs + 2 ALB zones: 14.60
        "secrets": 0.40,
        "KMS keys": 4 * 1.00,  # one per stack with log groups (network, cluster, 2 services)
    }
    assert cost.total(list(lines.values())) == pytest.approx(146.175125)
    assert lines["Fargate frontend"].quantity == "2 x 0.5 vCPU, 1 GB"


def test_cost_prices_can_be_overridden(synths: dict[str, Synth], tmp_path: Path) -> None:
    data = yaml.safe_load(cost.PRICES.read_text())
    data["prices"] = {key: value * 2 for key, value in data["prices"].items()}
    doubled = tmp_path / "prices.yaml"
    doubled.write_text(yaml.safe_dump(data))
    base = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load()))
    twice = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load(doubled)))
    assert twice == pytest.approx(2 * base)


def test_cost_tables(synths: dict[str, Synth]) -> None:
    """One env: items with quantities; several: one column per env, '-' where absent."""
    prices = cost.Prices.load()
    lines = {env: cost.estimate(s.templates, prices) for env, s in synths.items()}
    one = cost_report.as_table({"prod": lines["prod"]}, prices)
    assert one.title == "always-on cost, us-east-1 on-demand prices taken 2025-10"
    assert (one.headers, one.right) == (["item", "quantity", "USD/month"], (2,))
    assert one.rows[1] == ["Fargate frontend", "2 x 0.5 vCPU, 1 GB", "36.04"]
    assert one.rows[-1] == ["total", "", "146.18"]
    both = cost_report.as_table(lines, prices)
    assert (both.headers, both.right) == (["item", "dev USD/month", "prod USD/month"], (1, 2))
    assert both.rows[-1] == ["total", "82.65", "146.18"]
    assert [row[0] for row in both.rows] == [row[0] for row in one.rows]
    extra = cost.Line("timestamper-dev-x", "interface endpoint zones", 2, 14.6)
    shown = cost_report.as_table({"dev": [*lines["dev"], extra], "prod": lines["prod"]}, prices)
    assert ["interface endpoint zones", "14.60", "-"] in shown.rows
    report = cost_report.as_json(lines, prices)
    assert {env: r["total"] for env, r in report["envs"].items()} == {"dev": 82.65, "prod": 146.18}
    assert report["not_included"] == prices.not_included


def test_cost_cli(synths: dict[str, Synth], tmp_path: Path) -> None:
    """The CLI on the session's dev assembly (its synth path is preview's, tested there)."""
    dev = synths["dev"].assembly.directory
    table = run("cost", "--env", "dev", "--assembly", dev)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "always-on cost, us-east-1 on-demand prices taken 2025-10"
    assert lines[1].split() == ["item", "quantity", "USD/month"]
    assert lines[-2].split() == ["total", "82.65"]
    assert lines[-1].startswith("not included: data transfer")
    unknown = run("cost", "--env", "staging")
    assert unknown.returncode == 2 and "unknown env 'staging'" in unknown.stderr
    other = run("cost", "--env", "prod", "--assembly", dev)
    assert other.returncode == 2 and "not prod's stacks" in other.stderr
    assert "run `make synth ENV=prod`" in other.stderr
    nothing = run("cost", "--env", "dev", "--assembly", "no-such-dir")
    assert nothing.returncode == 2 and "not a cloud assembly" in nothing.stderr
    (tmp_path / "manifest.json").write_text("{")  # a synth cut short
    broken = run("cost", "--env", "dev", "--assembly", str(tmp_path))
    assert broken.returncode == 2 and "not a readable cloud assembly" in broken.stderr
    assert "Traceback" not in broken.stderr


# --- output ------------------------------------------------------------------------


def test_tables_are_rich_on_a_terminal_and_plain_otherwise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.ops import render

    rows = [["NAT gateways", "65.70"], ["total", "142.18"]]
    render.table("cost", ["item", "USD/month"], rows, right=(1,))
    plain = capsys.readouterr().out
    assert plain.splitlines() == ["cost", "  item          USD/month", "  NAT gateways      65.70",
                                  "  total            142.18"]  # fmt: skip
    monkeypatch.setattr(render, "terminal", lambda: True)
    render.table("cost", ["item", "USD/month"], rows, right=(1,))
    rich = capsys.readouterr().out
    assert "━" in rich and "NAT gateways" in rich and "142.18" in rich
