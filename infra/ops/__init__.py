"""Operator tools behind ``python -m infra``: config show, preview, cost."""
