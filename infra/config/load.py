"""Loading one environment: ``base.yaml``, then ``<env>.yaml``, then variables, validated.

pydantic-settings merges the layers (mappings merge key by key, lists and
scalars replace; each file read by :mod:`infra.config.files`) and types them
into :class:`AppConfig`; this module adds the cross-key rules and turns every
problem into a line naming its file and line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    YamlConfigSettingsSource,
)

from infra.config.errors import ConfigError
from infra.config.files import Document, read
from infra.config.model import ENV_PREFIX, KEPT_UNDER_MANAGED, AppConfig, long_form
from infra.config.origins import Origins, error_path, pydantic_line
from infra.config.rules import check_rules, partial_rules
from infra.paths import BASE_FILE, CONFIG_DIR

CROSS_KEY_NOTE = (
    "(rules across keys, such as cpu with memory, were checked only in the sections "
    "without the errors above; run again once they are fixed)"
)


class _YamlFile(YamlConfigSettingsSource):
    """One config file as a settings source; bad YAML becomes a ConfigError naming the line."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, label: str) -> None:
        self.document = Document(label, {})
        super().__init__(settings_cls, yaml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        # Bytes: PyYAML decodes them, and bad bytes become a YAML error, not a traceback.
        self.document = read(Path(file_path).read_bytes(), self.document.label)
        return _long_forms(self.document.data)

    def managed_services(self) -> set[str]:
        """The services this file makes managed (``managed:`` set)."""
        services = self.init_kwargs.get("services")
        if not isinstance(services, dict):
            return set()
        return {n for n, s in services.items() if isinstance(s, dict) and s.get("managed")}

    def drop_container(self, service: str) -> None:
        """Forget what this file says of ``service`` but the keys a managed service has,
        for the merge and for where keys came from (``config show``)."""
        for data in (self.init_kwargs, self.document.data):
            body = data.get("services", {}).get(service) if isinstance(data, dict) else None
            if isinstance(body, dict):
                for key in set(body) - KEPT_UNDER_MANAGED:
                    del body[key]


def _long_forms(data: dict[str, Any]) -> dict[str, Any]:
    """``build: dir`` as ``build: {context: dir}``, so that a later layer (another
    file, an APP_CONFIG__ variable) setting ``build.target`` merges into it."""
    services = data.get("services")
    if not isinstance(services, dict):
        return data
    expanded = {
        name: {key: long_form(key, value) for key, value in service.items()}
        if isinstance(service, dict)
        else service
        for name, service in services.items()
    }
    return {**data, "services": expanded}


class _Environment(EnvSettingsSource):
    """The environment-variable source, reading a given mapping (tests pass their own)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}


class _Merged(PydanticBaseSettingsSource):
    """The lowest-priority source: adds nothing, and keeps what pydantic-settings
    merged from the sources above it (``current_state``), so that the cross-key
    rules can still run on the sections that parse when validation fails."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.merged: dict[str, Any] = {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        self.merged = dict(self.current_state)
        return {}


def environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The environments that have a file in ``config_dir``."""
    return sorted(p.stem for p in config_dir.glob("*.yaml") if p.name != BASE_FILE)


def load_config(
    env: str,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> AppConfig:
    """Load, merge and validate one environment, or raise ConfigError.

    Only variables starting with ``APP_CONFIG__`` in ``environ`` (the process
    environment by default) are read.
    """
    return load_with_origins(env, config_dir, environ)[0]


def load_with_origins(
    env: str,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> tuple[AppConfig, Origins]:
    """As :func:`load_config`, plus where each key came from."""
    if not config_dir.is_dir():
        raise ConfigError([f"{_label(config_dir)}: no such config folder"])
    known = environments(config_dir)
    if env not in known:
        raise ConfigError(
            [
                f"unknown env {env!r} (no {_label(config_dir / f'{env}.yaml')}); "
                f"environments are: {', '.join(known) or 'none'}"
            ]
        )
    environ = os.environ if environ is None else environ
    overrides = {k.upper(): v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)}
    files = [config_dir / f"{env}.yaml", config_dir / BASE_FILE]  # highest priority first
    yaml_sources = [_YamlFile(AppConfig, path, _label(path)) for path in files]
    env_source = _Environment(AppConfig, overrides)
    merged = _Merged(AppConfig)
    origins = Origins([s.document for s in yaml_sources], overrides)
    _managed_replaces_container(overrides, yaml_sources)

    class _Loaded(AppConfig):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # Highest priority first: the env name, variables, <env>.yaml, base.yaml;
            # `merged` last only records what the others add up to.
            return (init_settings, env_source, *yaml_sources, merged)

    problems = [
        f"{s.document.at(('env',))}: env: is the file's own name; remove the key"
        for s in yaml_sources
        if "env" in s.document.data
    ]
    try:
        config: AppConfig = _Loaded(env=env)
    except ValidationError as error:
        broken = [error_path(e) for e in error.errors()]
        problems += [pydantic_line(e, origins) for e in error.errors()]
        problems += [origins.line(p) for p in partial_rules(merged.merged, broken)]
        raise ConfigError(problems, note=CROSS_KEY_NOTE) from None
    problems += [origins.line(p) for p in check_rules(config)]
    if problems:
        raise ConfigError(problems)
    return config, origins


def _managed_replaces_container(overrides: Mapping[str, str], files: list[_YamlFile]) -> None:
    """A layer that makes a service managed (prod.yaml's ``managed: valkey``) replaces
    its container: the keys lower layers (base.yaml's image, command, volumes ...)
    gave that service are dropped, except those a managed service has. Keys set
    in the same layer or above stay, and the rules refuse them by name."""
    by_variable = {
        parts[2].lower()
        for key, value in overrides.items()
        if (parts := key.upper().split("__"))[:2] == [ENV_PREFIX.rstrip("_"), "SERVICES"]
        and parts[3:] in (["MANAGED"], ["MANAGED", "ENGINE"])
        and value.strip().lower() not in ("", "null", "none")
    }
    layers = [by_variable, *(f.managed_services() for f in files)]
    # Highest first: layer k's files below it are files[k:] (the variables are layer 0).
    for index, managed in enumerate(layers):
        for lower in files[index:]:
            for name in managed:
                lower.drop_container(name)


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
