"""Managed engines that replace a service's container."""
