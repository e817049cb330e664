"""The operator CLI, ``python -m infra``: config show, preview and cost, run for real."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.__main__ import main
from infra.config import load_with_origins
from infra.config.model import MANAGED_SERVICE_KEYS
from infra.ops import cost, cost_report
from infra.ops.show import annotated_yaml
from infra.paths import CONFIG_DIR, ROOT
from infra.storage.volume import COST_METADATA
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


def left_out(shown: Any, full: Any, at: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """(path, value as JSON) of every key of ``full`` that ``shown`` leaves out;
    every value that is shown must be ``full``'s."""
    if not isinstance(full, dict) or not full:
        assert shown == full, at
        return []
    assert shown.keys() <= full.keys(), at
    found = []
    for key, value in full.items():
        if key in shown:
            found += left_out(shown[key], value, (*at, key))
        else:
            found.append(((*at, key), json.dumps(value)))
    return found


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
    assert origin_of(text, "engine: valkey") == "config/prod.yaml"  # the backend, managed
    assert origin_of(text, "cidr:") == "config/base.yaml"
    assert origin_of(text, "cpu_percent: 60") == "config/prod.yaml"  # inside a prod-only mapping
    assert origins_of(text, "exec: false") == {"default"}  # not set anywhere
    assert origins_of(text, "interval_seconds: 30") == {"default"}
    # The annotated text is still the config, as YAML, less the keys nobody set
    # that hold nothing.
    # A managed service shows only the keys it has (no container).
    dump = config.model_dump(mode="json")
    dump["services"]["backend"] = {k: v for k, v in dump["services"]["backend"].items()
                                   if k in MANAGED_SERVICE_KEYS}  # fmt: skip
    hidden = left_out(yaml.safe_load(text), dump)
    assert {(".".join(path), value) for path, value in hidden} >= {
        ("account", "null"), ("services.frontend.secrets", "{}"),
        ("services.frontend.image", "null"),
    }  # fmt: skip
    assert all(value in ("null", "[]", "{}") and origins.source(path) == "default"
               for path, value in hidden)  # fmt: skip


def test_config_show_leaves_out_unset_keys_that_hold_nothing(tmp_path: Path) -> None:
    """A secret shows its one source, not the other as null; a null a file sets is shown."""
    shutil.copytree(CONFIG_DIR, tmp_path, dirs_exist_ok=True)
    dev_file = tmp_path / "dev.yaml"
    # Replaces dev's own services: section (a second one is an error).
    dev_file.write_text(dev_file.read_text().split("\nservices:")[0])
    with dev_file.open("a") as dev:
        dev.write(
            "\nservices:\n  frontend:\n    autoscaling: null\n    secrets:\n"
            "      API_KEY: {ssm: /app/api-key}\n"
            "      DB_PASSWORD: {secrets_manager: 'arn:aws:secretsmanager:us-east-1:123456789012"
            ":secret:db-AbCdEf', field: password}\n"
        )
    text = annotated_yaml(*load_with_origins("dev", tmp_path, environ={}))
    secrets = text.split("    secrets:\n")[1].split("\n    user:")[0].splitlines()
    assert [line.split("#")[0].strip() for line in secrets] == [
        "API_KEY:", "ssm: /app/api-key",
        "DB_PASSWORD:", "secrets_manager: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        "field: password",
    ]  # fmt: skip
    assert origin_of(text, "autoscaling: null") == str(tmp_path / "dev.yaml")
    assert "account:" not in text and "kms_key:" not in text
    assert text.count("\n    volumes:") == 1  # the backend's; the frontend mounts none


def test_config_show_cli_and_its_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a user runs it, then its errors through its entry point in this process."""
    shown = run("config", "show", "--env", "prod")
    assert shown.returncode == 0, shown.stderr
    assert "termination_protection: true" in shown.stdout
    assert main(["config", "show", "--env", "staging"]) == 2
    bad = capsys.readouterr().err
    assert "unknown env 'staging'" in bad and "Traceback" not in bad
    variable = "APP_CONFIG__SERVICES__FRONTEND__MEMORY"
    monkeypatch.setenv(variable, "4096")
    assert main(["config", "show", "--env", "dev"]) == 2
    wrong = capsys.readouterr()
    assert wrong.out == ""
    assert f"environment variable {variable}: services.frontend.memory: 4096" in wrong.err


# --- cost --------------------------------------------------------------------------


def test_cost_matches_a_hand_computed_estimate(synths: dict[str, Synth]) -> None:
    prices = cost.Prices.load()
    assert (prices.region, prices.hours_per_month) == ("us-east-1", 730)
    lines = cost.by_item(cost.estimate(synths["prod"].templates, prices))
    monthly = {item: round(line.monthly, 4) for item, line in lines.items()}
    # By hand, from prices.yaml: 730 hours; x86 Fargate 0.04048/vCPU-h, 0.004445/GB-h;
    # ARM 0.03238, 0.00356; x86 on Spot 0.01334053, 0.00146489.
    assert monthly == {
        # autoscaling min 2: the on-demand base of 1, the other on Spot
        "Fargate frontend": round(1 * (0.25 * 0.04048 + 0.5 * 0.004445) * 730, 4),  # 9.0100
        "Fargate frontend (Spot)": round(1 * (0.25 * 0.01334053 + 0.5 * 0.00146489) * 730, 4),
        # Managed Valkey: the 100 MB of data a serverless cache bills at least, 0.084/GB-h.
        "ElastiCache Serverless backend": round(0.1 * 0.084 * 730, 4),  # 6.132
        "load balancer (application)": round(0.0225 * 730, 4),  # 16.425
        "NAT gateways": round(2 * 0.045 * 730, 4),  # 65.70
        "public IPv4 addresses": round(4 * 0.005 * 730, 4),  # 2 NAT EIPs + 2 ALB zones: 14.60
        "gateway endpoints (S3)": 0.0,
        "secrets": 0.40,  # the cache's password
        # One per stack with log groups (network, cluster, frontend), and the alarm topic's.
        "KMS keys": 4 * 1.00,
        # backend: throttled 1; frontend, its canary's two target groups: tasks 2, cpu,
        # memory, 5xx % (requests and 5xx of each) 4, load balancer 5xx 1, p99 2, unhealthy 2.
        "alarm metrics": round((1 + 13) * 0.10, 4),
        "dashboards": 3.00,
    }
    assert cost.total(list(lines.values())) == pytest.approx(123.636, abs=1e-3)
    assert lines["Fargate frontend (Spot)"].quantity == "1 x 0.25 vCPU, 0.5 GB"
    assert lines["ElastiCache Serverless backend"].quantity == "1 x 0.1 GB minimum"
    # Dev: no NAT; the ALB's two zones and each task (backend, frontend) hold an address;
    # Redis runs on ARM64 on its EFS volume.
    dev = cost.by_item(cost.estimate(synths["dev"].templates, prices))
    assert "NAT gateways" not in dev and "Fargate frontend" not in dev
    assert dev["public IPv4 addresses"].count == 4
    assert dev["Fargate backend"].monthly == pytest.approx((0.25 * 0.03238 + 0.5 * 0.00356) * 730)
    assert dev["EFS redis-data"].quantity == "1 x 1 GB"
    assert cost.total(list(dev.values())) == pytest.approx(51.195, abs=0.01)
    # The key cost reads is the one the storage stack writes (cost does not import the CDK).
    assert cost.COST_METADATA == COST_METADATA


def test_the_readme_shows_the_shipped_cost(synths: dict[str, Synth]) -> None:
    """README's "Paying little" table is what `make cost ENV=all` prints for the shipped
    configs, row by row: an edit of a config or a price shows there."""
    prices = cost.Prices.load()
    table = cost_report.as_table(
        {env: cost.estimate(s.templates, prices) for env, s in synths.items()}, prices
    )
    section = (ROOT / "README.md").read_text().split("## Paying little", 1)[1]
    shown = section.split(f"    {table.title}\n", 1)[1].split("\n    not included:", 1)[0]
    rows = [re.split(r"\s{2,}", line.strip()) for line in shown.splitlines()]
    assert rows == [table.headers, *table.rows]


def file_system(logical_id: str, size_gb: int | None = None) -> tuple[str, dict[str, Any]]:
    metadata = {} if size_gb is None else {COST_METADATA: {"StorageGB": size_gb}}
    return logical_id, {"Type": "AWS::EFS::FileSystem", "Metadata": metadata,
                        "Properties": {"Encrypted": True, "ThroughputMode": "elastic"}}  # fmt: skip


def access_point(file_system_id: str, path: str) -> tuple[str, dict[str, Any]]:
    return f"{file_system_id}AccessPoint", {"Type": "AWS::EFS::AccessPoint", "Properties": {
        "FileSystemId": {"Ref": file_system_id}, "RootDirectory": {"Path": path}}}  # fmt: skip


def test_cost_prices_efs_storage_of_the_size_config_gives() -> None:
    prices = cost.Prices.load()
    mount_target = {"Type": "AWS::EFS::MountTarget",
                    "Properties": {"FileSystemId": {"Ref": "Cache1"}, "SubnetId": "subnet-1"}}  # fmt: skip
    storage = dict([
        file_system("Data1", size_gb=20), access_point("Data1", "/redis-data"),
        file_system("Cache1"), access_point("Cache1", "/cache"), ("Target1", mount_target),
        file_system("Bare1", size_gb=3),  # no access point: named by its logical ID
    ])  # fmt: skip
    lines = cost.estimate({"app-dev-storage": {"Resources": storage}}, prices)
    assert [(x.stack, x.item, x.quantity, round(x.monthly, 2)) for x in lines] == [
        ("app-dev-storage", "EFS redis-data", "1 x 20 GB", 6.00),  # 20 x 0.30 per GB-month
        ("app-dev-storage", "EFS cache", "1 x usage-based", 0.00),  # no size: not estimated
        ("app-dev-storage", "EFS Bare1", "1 x 3 GB", 0.90),
    ]
    assert any(item.startswith("EFS storage of volumes without a size_gb")
               for item in prices.not_included)  # fmt: skip
    # In the table, after Fargate: storage is what a service keeps.
    lines.append(cost.Line("app-dev-backend", "Fargate backend", 1, 9.01, "0.25 vCPU, 0.5 GB"))
    assert list(cost.by_item(lines))[:2] == ["Fargate backend", "EFS Bare1"]


def test_cost_prices_can_be_overridden(synths: dict[str, Synth], tmp_path: Path) -> None:
    data = yaml.safe_load(cost.PRICES.read_text())
    data["prices"] = {key: value * 2 for key, value in data["prices"].items()}
    doubled = tmp_path / "prices.yaml"
    doubled.write_text(yaml.safe_dump(data))
    base = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load()))
    twice = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load(doubled)))
    assert twice == pytest.approx(2 * base)


def test_a_price_file_missing_a_price_is_refused_by_name(tmp_path: Path) -> None:
    data = yaml.safe_load(cost.PRICES.read_text())
    del data["prices"]["efs_standard_gb_month"]  # a file written before EFS was priced
    older = tmp_path / "prices.yaml"
    older.write_text(yaml.safe_dump(data))
    with pytest.raises(
        cost.PriceFileError, match=r"prices\.yaml: prices: missing efs_standard_gb_month \(copy"
    ):
        cost.Prices.load(older)
    older.write_text("- not\n- a mapping\n")
    with pytest.raises(cost.PriceFileError, match=r"not a price file like prices\.yaml"):
        cost.Prices.load(older)


def test_build_short_form_sets_only_its_context() -> None:
    """``build: frontend`` sets ``build.context``; a variable adds a target beside it."""
    variable = "APP_CONFIG__SERVICES__FRONTEND__BUILD__TARGET"
    config, origins = load_with_origins("dev", environ={variable: "runtime"})
    assert config.services["frontend"].build is not None
    assert (config.services["frontend"].build.context, config.services["frontend"].build.target) == (
        "frontend", "runtime")  # fmt: skip
    assert origins.source(("services", "frontend", "build", "context")) == "config/base.yaml"
    assert origins.source(("services", "frontend", "build", "dockerfile")) == "default"
    assert origins.source(("services", "frontend", "build", "target")) == (
        f"environment variable {variable}"
    )


def test_cost_tables(synths: dict[str, Synth]) -> None:
    """One env: items with quantities; several: one column per env, '-' where absent.
    prod's figures are pinned by the hand-computed estimate above, not again here."""
    prices = cost.Prices.load()
    lines = {env: cost.estimate(s.templates, prices) for env, s in synths.items()}
    one = cost_report.as_table({"prod": lines["prod"]}, prices)
    assert one.title == "always-on cost, us-east-1 prices taken 2025-10"
    assert (one.headers, one.right) == (["item", "quantity", "USD/month"], (2,))
    prod = cost.by_item(lines["prod"])
    assert one.rows == [
        *([item, line.quantity, f"{line.monthly:,.2f}"] for item, line in prod.items()),
        ["total", "", f"{cost.total(lines['prod']):,.2f}"],
    ]
    assert ["ElastiCache Serverless backend", "1 x 0.1 GB minimum", "6.13"] in one.rows
    both = cost_report.as_table(lines, prices)
    assert (both.headers, both.right) == (["item", "dev USD/month", "prod USD/month"], (1, 2))
    totals = {env: round(cost.total(found), 2) for env, found in lines.items()}
    assert both.rows[-1] == ["total", *(f"{totals[env]:,.2f}" for env in ("dev", "prod"))]
    # Every item of either env, in the order of one env's table.
    items = [row[0] for row in both.rows]
    assert set(items) == {*cost.by_item(lines["dev"]), *prod, "total"}
    assert items == [*sorted(items[:-1], key=cost.item_order), "total"]
    extra = cost.Line("timestamper-dev-x", "interface endpoint zones", 2, 14.6)
    shown = cost_report.as_table({"dev": [*lines["dev"], extra], "prod": lines["prod"]}, prices)
    assert ["interface endpoint zones", "14.60", "-"] in shown.rows
    report = cost_report.as_json(lines, prices)
    assert {env: r["total"] for env, r in report["envs"].items()} == totals
    assert report["not_included"] == prices.not_included


def test_cost_cli(
    synths: dict[str, Synth], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI on the session's dev assembly (its synth path is preview's, tested there):
    once as a user runs it, its errors through its entry point in this process."""
    dev = synths["dev"].assembly.directory
    table = run("cost", "--env", "dev", "--assembly", dev)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "always-on cost, us-east-1 prices taken 2025-10"
    assert lines[1].split() == ["item", "quantity", "USD/month"]
    expected = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load()))
    assert lines[-2].split() == ["total", f"{expected:,.2f}"]
    assert lines[-1].startswith("not included: ") and "data transfer" in lines[-1]

    def fails(*args: str) -> str:
        assert main(["cost", *args]) == 2
        return capsys.readouterr().err

    assert "unknown env 'staging'" in fails("--env", "staging")
    other = fails("--env", "prod", "--assembly", dev)
    assert "not prod's stacks" in other and "run `make synth ENV=prod`" in other
    assert "not a cloud assembly" in fails("--env", "dev", "--assembly", "no-such-dir")
    (tmp_path / "manifest.json").write_text("{")  # a synth cut short
    broken = fails("--env", "dev", "--assembly", str(tmp_path))
    assert "not a readable cloud assembly" in broken and "Traceback" not in broken


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
