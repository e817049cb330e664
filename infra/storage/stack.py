"""StorageStack: the env's durable volumes, apart from the services that mount them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.config import Removal
from infra.logs import as_removal_policy
from infra.names import pascal
from infra.storage.volume import DurableVolume, Owner


class StorageStack(Stack):
    """One :class:`DurableVolume` per named volume: each one a service mounts, and
    each one listed under ``storage.volumes`` with an owner (kept while unmounted).

    The volumes live in a stack of their own, so that replacing, renaming or
    deleting a service's stack never touches its data: a redeployed service
    mounts the same file system again. ``removal`` (``storage.removal_policy``)
    keeps each file system when this stack is deleted or the file system
    replaced (prod), or lets it go (dev). ``sizes`` (GB, where config gives
    one) only inform ``cost``. ``volumes`` is what service stacks receive, by
    volume name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        owners: Mapping[str, Owner],
        removal: Removal,
        sizes: Mapping[str, int | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        policy = as_removal_policy(removal)
        self.volumes: dict[str, DurableVolume] = {
            name: DurableVolume(self, pascal(name), vpc=vpc, name=name, owner=owner,
                                removal=policy, size_gb=(sizes or {}).get(name))
            for name, owner in sorted(owners.items())
        }  # fmt: skip
