"""The frontend's pure logic on small inputs: Host names, ALLOWED_HOSTS, log repeats."""

from __future__ import annotations

import logging
import socket

import pytest

from hosts import host_allowed, host_name
from logs import RepeatFilter
from settings import Settings


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("example.com", "example.com"),
        ("Example.COM:8080", "example.com"),
        ("example.com.", "example.com"),
        ("10.0.1.23:5000", "10.0.1.23"),
        ("[::1]:5000", "::1"),
        ("[::1]", "::1"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def environ(host: str | None, protocol: str = "HTTP/1.1", sock: object = None) -> dict[str, object]:
    env: dict[str, object] = {"SERVER_PROTOCOL": protocol, "gunicorn.socket": sock}
    if host is not None:
        env["HTTP_HOST"] = host
    return env


def test_hosts_the_app_answers() -> None:
    allowed = frozenset({"app.example.com"})
    assert host_allowed(environ("APP.example.com:443"), allowed)
    assert host_allowed(environ("localhost:5000"), allowed)
    assert host_allowed(environ("127.0.0.1"), allowed)
    assert not host_allowed(environ("evil.example"), allowed)
    assert not host_allowed(environ("app.example.com.evil.example"), allowed)
    assert not host_allowed(environ(None), allowed)  # HTTP/1.1 must name a host
    assert host_allowed(environ(None, "HTTP/1.0"), allowed)


def test_the_address_a_request_arrived_on_is_answered() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        assert host_allowed(environ("127.0.0.2:5000", sock=sock), frozenset())
        assert not host_allowed(environ("127.0.0.3:5000", sock=sock), frozenset())
    assert not host_allowed(environ("127.0.0.2:5000"), frozenset())  # no socket, no guess


def test_allowed_hosts_setting() -> None:
    value = " App.example.com, timestamper-123.eu-west-1.elb.amazonaws.com. ,"
    assert Settings.from_env({"ALLOWED_HOSTS": value}).allowed_hosts == {
        "app.example.com",
        "timestamper-123.eu-west-1.elb.amazonaws.com",
    }
    assert Settings.from_env({}).allowed_hosts == frozenset()
    for bad in ("https://app.example.com", "app.example.com:443", "*.example.com", "a b"):
        with pytest.raises(ValueError, match=r"ALLOWED_HOSTS: .* is not a host name"):
            Settings.from_env({"ALLOWED_HOSTS": bad})


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("frontend", logging.WARNING, __file__, 1, message, args, None)


def test_a_repeating_line_is_let_through_once_per_interval_with_a_count() -> None:
    clock = [100.0]
    repeats = RepeatFilter(10, clock=lambda: clock[0])
    template = "backend %s unavailable: %s"
    assert repeats.filter(record(template, "b:6379", "refused"))
    for _ in range(7499):
        clock[0] += 0.001
        assert not repeats.filter(record(template, "b:6379", "timeout"))
    assert repeats.filter(record("another failure"))  # a different kind is not held back
    clock[0] = 110.5
    summary = record(template, "b:6379", "refused")
    assert repeats.filter(summary)
    assert summary.getMessage() == (
        "backend b:6379 unavailable: refused (7499 more like this in the last 10.5 s)"
    )
    clock[0] = 121.0
    quiet = record(template, "b:6379", "refused")
    assert repeats.filter(quiet) and quiet.getMessage() == "backend b:6379 unavailable: refused"
