"""An Arrivy stand-in per test and a tap config pointing at it."""

import datetime

import pytest


@pytest.fixture
def arrivy_config(arrivy_server):
    return {
        "auth_key": "sandbox-arrivy-key",
        "auth_token": "sandbox-arrivy-token",
        "api_url": f"{arrivy_server.url}/api",
        "start_date": (arrivy_server.now - datetime.timedelta(days=365)).isoformat(),
        "requests_per_minute": 100_000,
        "backoff_base_seconds": 0.05,
    }


def utc(text):
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)
