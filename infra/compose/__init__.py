"""``python -m infra import``: a compose file as this app's config."""
