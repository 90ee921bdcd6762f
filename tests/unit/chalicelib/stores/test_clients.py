"""Valkey's AUTH token comes from Secrets Manager, never from an environment variable on AWS."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib.model.errors import StorageError
from chalicelib.model.settings import Settings
from chalicelib.stores.clients import resolve_redis_url, with_password


def test_the_token_is_read_from_the_secret_and_put_into_the_url() -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = secrets.create_secret(Name="redis-auth", SecretString=json.dumps({"token": "t0k/en"}))["ARN"]
        settings = Settings.from_env({"REDIS_HOST": "master.example.cache.amazonaws.com", "REDIS_PORT": "6379",
                                      "FRAMEFLEET_REDIS_AUTH_SECRET_ARN": arn})
        assert resolve_redis_url(settings, secrets) == "rediss://:t0k%2Fen@master.example.cache.amazonaws.com:6379/0"
        with pytest.raises(StorageError, match="Secrets Manager"):
            resolve_redis_url(Settings.from_env({"REDIS_HOST": "h", "FRAMEFLEET_REDIS_AUTH_SECRET_ARN": arn + "x"}),
                              secrets)
    assert resolve_redis_url(Settings(redis_url="redis://127.0.0.1:1/0")) == "redis://127.0.0.1:1/0"


def test_with_password_replaces_any_password() -> None:
    assert with_password("rediss://:old@h:6380/0", "new") == "rediss://:new@h:6380/0"
    assert with_password("redis://h/0", "p w") == "redis://:p%20w@h/0"
