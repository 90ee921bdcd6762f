"""Webhook delivery: the sender process (``python -m workers --role notifier``) and its safe HTTP transport."""
