"""Session-wide settings for every test."""

import os
from pathlib import Path
from typing import Any

import pytest

# jsii's Node 20 end-of-life banner would otherwise fill captured stderr.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
# As the Makefile does: Node.js 22 from node_modules where npm installed it (linux
# x64) runs jsii here and in every synth the tests start, for a quarter less CPU.
_NODE_BIN = Path(__file__).resolve().parent.parent / "node_modules" / ".bin"
if (_NODE_BIN / "node").exists() and not os.environ["PATH"].startswith(str(_NODE_BIN)):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ['PATH']}"


# The files whose tests synthesize the app in-process (the fixtures of
# tests/infra/conftest.py, or an app of their own). Under xdist they are one unit
# of work on one worker, so the app is synthesized once per run, not once per
# worker (the first synth of a process costs several seconds of jsii warm-up).
# test_constructs.py builds bare stacks of its own and runs on another worker:
# the in-process unit is the run's longest, and the others have room.
IN_PROCESS = frozenset({
    "tests/infra/test_changes.py",
    "tests/infra/test_cost_modes.py",
    "tests/infra/test_deploys.py",
    "tests/infra/test_managed.py",
    "tests/infra/test_import.py",
    "tests/infra/test_ops.py",
    "tests/infra/test_own_services.py",
    "tests/infra/test_security.py",
    "tests/infra/test_stacks.py",
})  # fmt: skip
SYNTH_FIXTURES = frozenset({"synths", "variants", "synth_edited"})


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


def _rank(item: pytest.Item) -> int:
    """In-process synthesis first (the tests that wait for the background checks
    last among them), then the files that run real CLIs, then the rest, so that
    with -n auto the workers finish at about the same time."""
    if _file(item) in IN_PROCESS:
        return 1 if BACKGROUND in getattr(item, "fixturenames", ()) else 0
    return 2 if item.get_closest_marker("end_to_end") else 3


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    strays = sorted({_file(i) for i in items
                     if SYNTH_FIXTURES & set(i.fixturenames) and _file(i) not in IN_PROCESS})  # fmt: skip
    if strays:
        raise pytest.UsageError(
            f"{', '.join(strays)} synthesize in-process: list them in IN_PROCESS (tests/conftest.py)"
        )
    items.sort(key=_rank)
    _start_template_checks_first(items)


# cfn-lint and checkov run in the background (tests/infra/background.py): the
# first in-process test starts them, so their own tests only wait.
BACKGROUND = "template_checks"


def _start_template_checks_first(items: list[pytest.Item]) -> None:
    users = [i for i in items if BACKGROUND in getattr(i, "fixturenames", ())]
    first = next((i for i in items if _file(i) in IN_PROCESS), None)
    if users and first is not None and BACKGROUND not in first.fixturenames:  # type: ignore[attr-defined]
        first.fixturenames.append(BACKGROUND)  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)  # xdist's hook: absent without pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` and no ``--dist`` of the user's: files as units (``loadfile``) in
    collection order, the IN_PROCESS files as one unit."""
    if config.getvalue("dist") != "load":
        return None
    # Imported here: only a run under xdist (which is then installed) gets here.
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False  # keep _rank's order, not the largest file first

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope: str = super()._split_scope(nodeid)
            return "in-process synthesis" if scope in IN_PROCESS else scope

    return Scheduling(config, log)
