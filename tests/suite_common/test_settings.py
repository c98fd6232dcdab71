"""suite_common.settings: unknown settings are named, former names still work."""

from __future__ import annotations

from suite_common.settings import apply_renames, unknown_settings
from tap_callrail.tap import TapCallRail
from tap_legacy_erp.tap import TapLegacyErp


def test_an_unknown_setting_names_the_closest_known_one():
    known = ["api_url", "api_key", "page_size"]
    assert unknown_settings({"api_urll": 1, "api_key": 2, "zzz": 3}, known) == [
        "Unknown setting api_urll is ignored; did you mean api_url?",
        "Unknown setting zzz is ignored",
    ]


def test_a_former_name_moves_to_the_new_one_and_wins():
    config = {"per_page": 7, "page_size": 250}
    assert apply_renames(config, {"per_page": "page_size"}) == [
        "Setting per_page is deprecated: it was read as page_size; rename it"
    ]
    assert config == {"page_size": 7}


def test_taps_read_their_former_setting_names(caplog):
    """CallRail's per_page and the ERP's timeout are the page_size and timeout_seconds of
    every tap now; configs that still say the old names keep working."""
    callrail = TapCallRail(config={"api_key": "k", "per_page": 7})
    assert callrail.config["page_size"] == 7 and "per_page" not in callrail.config
    erp = TapLegacyErp(config={"base_url": "http://erp.example", "timeout": 3})
    assert erp.config["timeout_seconds"] == 3
    assert "Setting timeout is deprecated" in caplog.text


def test_a_setting_given_as_null_takes_its_declared_default():
    tap = TapCallRail(config={"api_key": "k", "lookback_minutes": None, "api_url": None})
    assert tap.config["lookback_minutes"] == 1440
    assert tap.config["api_url"] == "https://api.callrail.com/v3"


def test_reconcile_days_alone_is_the_former_way_to_turn_the_pass_on(caplog):
    """`reconcile: true` is the switch in every tap; `reconcile_days` alone once was."""
    former = TapCallRail(config={"api_key": "k", "reconcile_days": 30})
    assert former.config["reconcile"] is True and former.config["reconcile_days"] == 30
    assert "Setting reconcile_days alone is the former way to turn reconcile on" in caplog.text
    window_only = TapCallRail(config={"api_key": "k", "reconcile": False, "reconcile_days": 30})
    assert window_only.config["reconcile"] is False
    default = TapCallRail(config={"api_key": "k"})
    assert (default.config["reconcile"], default.config["reconcile_days"]) == (False, 90)
    erp = TapLegacyErp(config={"base_url": "http://erp.example", "reconcile": True})
    assert erp.config["reconcile"] is True and "reconcile_days" not in erp.config
