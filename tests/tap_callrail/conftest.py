"""A CallRail stand-in per test and a tap config pointing at it."""

import datetime

import pytest


@pytest.fixture
def callrail_config(callrail_server):
    start = callrail_server.now - datetime.timedelta(days=120)
    return {
        "api_key": "sandbox-callrail-key",
        "api_url": f"{callrail_server.url}/v3",
        "start_date": start.isoformat(),
        "backoff_base_seconds": 0.05,
    }


def truth(server, collection):
    """Every live record of a collection, over all accounts, by id."""
    records = {}
    for account in server.accounts.values():
        for record in account.collection(collection).live_records():
            records[str(record["id"])] = record
    return records


def sent(server, path_part):
    """Query parameters of the requests the tap sent to paths containing `path_part`."""
    return [request.query for request in server.requests if path_part in request.path]
