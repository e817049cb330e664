"""AWS for the day-2 commands: one session, clients that give up quickly, a
deployed stack's outputs, and botocore's errors as one line that says what to do.

Everything here resolves as the cdk CLI does: ``AWS_PROFILE``; the region
from the config's ``region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``
or the profile's (botocore itself reads only the latter two), except that
where the cdk CLI falls back to us-east-1 these commands stop and say so;
and ``AWS_ENDPOINT_URL`` (botocore's own setting, which the tests use to reach
a local moto server). Only the commands that need AWS import
this module, so the offline ones do not pay for importing boto3.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as EndpointError

# botocore clients are generated at run time; their methods are untyped.
Client = Any
# botocore's JSON service models, read once per process: each new session
# would otherwise parse them again (CloudFormation's alone takes ~0.1 s).
MODELS = botocore.loaders.create_loader()

# A command should answer or fail within seconds: short timeouts, few retries
# (botocore's standard mode retries throttling and 5xx with backoff).
TIMEOUTS = Config(
    connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)
# The preflight before a deploy: a dead network or a wrong endpoint in ~5 s.
QUICK = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})

LOGIN = (
    "set AWS_PROFILE to a configured profile, or run `aws sso login` "
    "(`aws configure sso` sets a profile up)"
)
# What AWS answers when the caller's credentials are expired, revoked or forged.
REJECTED_CREDENTIALS = frozenset({
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", "UnrecognizedClientException",
    "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
})  # fmt: skip
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# CloudFormation's stack states that mean the last operation failed.
FAILED_STATE_MARKS = ("FAILED", "ROLLBACK")


class AwsError(Exception):
    """A day-2 command cannot run: the message is one line for the user (exit 2)."""


@dataclass(frozen=True)
class Stack:
    """A deployed CloudFormation stack: its state and its outputs by key."""

    name: str
    status: str
    reason: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """The last operation failed or rolled back (``UPDATE_ROLLBACK_COMPLETE`` too)."""
        return any(mark in self.status for mark in FAILED_STATE_MARKS)

    @property
    def settled(self) -> bool:
        """No operation is running on it."""
        return not self.status.endswith("_IN_PROGRESS")

    def output(self, key: str) -> str:
        """An output the commands need, or an AwsError saying how to get it."""
        try:
            return self.outputs[key]
        except KeyError:
            raise AwsError(
                f"stack {self.name} ({self.status}) has no {key} output: it was deployed "
                "before the output existed, or its deploy is not finished; deploy it again"
            ) from None


class Aws:
    """The caller's AWS session in one region, resolved like the AWS CLI's."""

    def __init__(self, region: str | None = None, config: Config = TIMEOUTS) -> None:
        """``region``: the config's pinned region; else the environment's or profile's."""
        self._core = botocore.session.Session()
        self._core.register_component("data_loader", MODELS)
        region = region or os.environ.get("AWS_REGION") or None
        try:
            self.session = boto3.Session(botocore_session=self._core, region_name=region)
            resolved = self.session.region_name
        except ProfileNotFound as error:
            raise AwsError(explain(error)) from None
        if not resolved:
            raise AwsError(NO_REGION)
        self.region: str = resolved
        self.config = config

    @property
    def profile(self) -> str | None:
        """The named profile in use (``AWS_PROFILE``), None for the default chain."""
        profile = self._core.profile
        return str(profile) if profile else None

    def client(self, service: str) -> Client:
        return self.session.client(service, config=self.config)

    def stack(self, name: str) -> Stack | None:
        """The stack called ``name``, or None when it does not exist (not deployed)."""
        try:
            found = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if code_of(error) == "ValidationError" and "does not exist" in _message(error):
                return None
            raise
        (stack,) = found
        return Stack(
            name=name,
            status=str(stack["StackStatus"]),
            reason=stack.get("StackStatusReason"),
            outputs={o["OutputKey"]: str(o["OutputValue"]) for o in stack.get("Outputs", [])},
        )

    def deployed(self, name: str, hint: str) -> Stack:
        """The stack called ``name``; AwsError with ``hint`` when it does not exist."""
        stack = self.stack(name)
        if stack is None:
            raise AwsError(f"stack {name} is not deployed in {self.region}: {hint}")
        return stack


NO_REGION = (
    "no AWS region: set AWS_REGION (or a region in your AWS profile), or pin "
    "`region:` (with account and availability_zones) in config/<env>.yaml"
)


def explain(error: Exception) -> str:
    """One line for a botocore error: what went wrong and the fix."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return f"no AWS credentials found: {LOGIN}"
    if isinstance(error, SSOError | TokenRetrievalError):
        return f"the AWS SSO session is missing or expired ({error}): run `aws sso login`"
    if isinstance(error, CredentialRetrievalError):
        return f"could not get AWS credentials ({error}): {LOGIN}"
    if isinstance(error, ProfileNotFound):
        return f"{error}: `aws configure list-profiles` lists the profiles there are"
    if isinstance(error, NoRegionError):
        return NO_REGION
    if isinstance(error, EndpointError | HTTPClientError):
        return f"cannot reach AWS ({error}): check the network, or AWS_ENDPOINT_URL if set"
    if isinstance(error, ClientError):
        code, message = code_of(error), _message(error)
        where = error.operation_name
        if code in REJECTED_CREDENTIALS:
            return f"AWS refused the credentials ({code}: {message}): expired or invalid; {LOGIN}"
        if code in DENIED:
            return f"not allowed to call {where} ({code}: {message}): use a role that may"
        return f"{where} failed: {code}: {message}"
    return str(error)


def code_of(error: ClientError) -> str:
    """The error code AWS answered with (``ParameterNotFound`` ...)."""
    return str(error.response.get("Error", {}).get("Code", "unknown"))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")).strip()


# What a command catches to print ``explain(error)`` and exit 2.
ERRORS = (BotoCoreError, ClientError)
