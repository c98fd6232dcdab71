"""suite_common.moments: every moment aware and in UTC, in the text each source reads."""

from __future__ import annotations

import datetime

from suite_common.moments import (
    aware,
    iso_utc,
    iso_utc_text,
    setting_moment,
    utc_microseconds,
    utc_wall_time,
)

UTC = datetime.timezone.utc
EST = datetime.timezone(datetime.timedelta(hours=-5))


def test_a_moment_without_a_zone_is_utc_and_one_with_a_zone_keeps_it():
    naive = datetime.datetime(2026, 1, 2, 3, 4, 5)
    assert aware(naive) == naive.replace(tzinfo=UTC)
    zoned = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=EST)
    assert aware(zoned) is zoned


def test_a_date_setting_is_read_as_utc_unless_it_names_a_zone():
    assert setting_moment({"start_date": "2026-01-02"}, "start_date") == datetime.datetime(
        2026, 1, 2, tzinfo=UTC
    )
    named = setting_moment({"end_date": "2026-01-02T10:00:00-05:00"}, "end_date")
    assert named == datetime.datetime(2026, 1, 2, 15, tzinfo=UTC)
    assert setting_moment({}, "start_date") is None
    assert setting_moment({"start_date": ""}, "start_date") is None


def test_each_source_gets_its_own_text_of_the_same_moment():
    moment = datetime.datetime(2026, 1, 2, 10, 0, 0, 250000, tzinfo=EST)
    assert iso_utc(moment) == "2026-01-02T15:00:00.250000+00:00"
    assert iso_utc(moment, "seconds") == "2026-01-02T15:00:00+00:00"
    assert utc_wall_time(moment) == "2026-01-02T15:00:00"


def test_an_api_datetime_text_becomes_utc_and_anything_else_is_left_alone():
    assert iso_utc_text("2017-10-14 01:23:33-05:00") == "2017-10-14T06:23:33+00:00"
    assert iso_utc_text("2017-10-14") == "2017-10-14"
    assert iso_utc_text("2017-10-14T99:99:99") == "2017-10-14T99:99:99"
    assert iso_utc_text(1507962213) == 1507962213


def test_a_mysql_datetime_keeps_its_microseconds_as_bookmarks_do():
    assert utc_microseconds("2026-01-02 03:04:05") == "2026-01-02T03:04:05.000000+00:00"
    assert utc_microseconds("2026-01-02 03:04:05.12") == "2026-01-02T03:04:05.120000+00:00"
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 7)
    assert utc_microseconds(moment) == "2026-01-02T03:04:05.000007+00:00"
