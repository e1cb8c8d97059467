"""Adapters to the AWS services the functions call (the scheduler's table is in scheduler/table.py)."""

from botocore.config import Config

# Standard mode retries throttling and 5xx errors with exponential backoff and full jitter.
# Ten attempts span about a minute of backoff; the function timeout leaves room for it.
RETRYING_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 10})
