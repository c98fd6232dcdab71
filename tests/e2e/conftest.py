"""The four pipelines, one test each, against their stand-ins."""

from __future__ import annotations

import pytest

from tests.support.pipelines import (
    Pipeline,
    arrivy_pipeline,
    callrail_pipeline,
    erp_pipeline,
    genius_pipeline,
)


@pytest.fixture(params=["legacy-erp", "arrivy", "callrail", "genius"])
def pipeline(request: pytest.FixtureRequest) -> Pipeline:
    if request.param == "legacy-erp":
        return erp_pipeline(request.getfixturevalue("erp_server"))
    if request.param == "arrivy":
        return arrivy_pipeline(request.getfixturevalue("arrivy_server"))
    if request.param == "callrail":
        return callrail_pipeline(request.getfixturevalue("callrail_server"))
    engine = request.getfixturevalue("genius_db")
    return genius_pipeline(engine, request.getfixturevalue("mariadb_server").url)
