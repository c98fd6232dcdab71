"""Settings every plugin of the suite declares or checks the same way."""

from __future__ import annotations

import difflib
import logging
import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.metrics import get_metrics_logger

from suite_common.contacts import DEFAULT_REGION
from suite_common.sdk_adapter import mutable_config

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase


def retry_settings() -> list[th.Property]:
    """How failed requests are retried (see suite_common.http.retry_waits)."""
    return [
        th.Property(
            "max_retries",
            th.IntegerType,
            default=6,
            description=(
                "Tries per request before its stream fails (429, 5xx, timeouts, dropped "
                "connections, bodies that are not JSON)."
            ),
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=2.0,
            description="First wait between tries, doubled each time; Retry-After wins.",
        ),
    ]


def tls_settings() -> list[th.Property]:
    """TLS: certificates are always verified; a private CA is trusted through its file."""
    return [
        th.Property(
            "ca_bundle",
            th.StringType,
            description=(
                "PEM file of the CA that signed the server's certificate, for a private CA. "
                "Certificates are always verified; without it, the system's CAs are used."
            ),
        )
    ]


def unknown_settings(given: t.Iterable[str], known: t.Collection[str]) -> list[str]:
    """One warning text per setting that is not `known`, naming the closest known one."""
    texts = []
    for name in sorted(set(given) - set(known)):
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        texts.append(f"Unknown setting {name} is ignored{hint}")
    return texts


def timeout_setting(default: int) -> th.Property:
    """`timeout_seconds`: how long one request may take, one name in every REST tap."""
    return th.Property(
        "timeout_seconds", th.IntegerType, default=default, description="Seconds per request."
    )


def region_setting() -> th.Property:
    """`default_region`: where phone numbers written without a country code are read, one
    name in every tap that normalises phone numbers (`suite_common.contacts`)."""
    return th.Property(
        "default_region",
        th.StringType,
        default=DEFAULT_REGION,
        description=(
            "Region (ISO 3166 code) for phone numbers written without a country code, "
            "when they are put in E.164 form in the <column>_e164 columns."
        ),
    )


def page_size_setting(default: int | None, description: str) -> th.Property:
    """`page_size`: records per request, one name in every tap (the API's own parameter
    may be called per_page, items_per_page or $top)."""
    return th.Property("page_size", th.IntegerType, default=default, description=description)


def former_names(renames: t.Mapping[str, str], kind: type[th.JSONTypeHelper]) -> list[th.Property]:
    """The settings' former names (former → current), still declared so that they are read
    and validated; `apply_renames` moves their values to the current names."""
    return [
        th.Property(
            old, kind, deprecated=True, description=f"Deprecated: the former name of {new}."
        )
        for old, new in renames.items()
    ]


def apply_renames(config: dict[str, t.Any], renames: t.Mapping[str, str]) -> list[str]:
    """Move each former name's value to its new name (it wins: the new name may hold only
    its default); one warning text per former name found."""
    texts = []
    for old, new in renames.items():
        if old in config:
            config[new] = config.pop(old)
            texts.append(f"Setting {old} is deprecated: it was read as {new}; rename it")
    return texts


def apply_former_switches(
    config: dict[str, t.Any], given: t.Collection[str], switches: t.Mapping[str, str]
) -> list[str]:
    """A setting that once turned a feature on by being given (former spelling) → its
    switch: given without the switch, it sets the switch true. One warning text each."""
    texts = []
    for former, switch in switches.items():
        if former in given and switch not in given:
            config[switch] = True
            texts.append(
                f"Setting {former} alone is the former way to turn {switch} on: it was read "
                f"as {switch}: true; say so"
            )
    return texts


def null_means_default(config: dict[str, t.Any], properties: t.Mapping[str, t.Any]) -> None:
    """A setting given as null takes its declared default, as an unset one does (the SDK
    fills in defaults for absent settings only), so the code reads every default from
    the one place it is declared."""
    for name, value in list(config.items()):
        if value is None and "default" in properties.get(name, {}):
            config[name] = properties[name]["default"]


def check_at_start(
    plugin: PluginBase,
    renames: t.Mapping[str, str] | None = None,
    switches: t.Mapping[str, str] | None = None,
    given: t.Collection[str] | None = None,
) -> None:
    """What every plugin of the suite does once its settings are read: warn of unknown
    settings (the SDK ignores them silently, so a typo looked like a default), move former
    names to current ones (and former switches, judged on the settings `given` before the
    SDK filled in defaults), give null settings their defaults, and keep METRIC lines (half
    of every log) for `LOGLEVEL=DEBUG`."""
    properties = plugin.config_jsonschema.get("properties", {})
    texts = unknown_settings(plugin.config, properties)
    config = mutable_config(plugin)
    texts += apply_renames(config, renames or {})
    present = {name for name in (given or ()) if config.get(name) is not None}
    declared = {former: s for former, s in (switches or {}).items() if former in properties}
    texts += apply_former_switches(config, present, declared)
    null_means_default(config, properties)
    for text in texts:
        plugin.logger.warning("%s", text)
    metrics = get_metrics_logger()
    if metrics.getEffectiveLevel() > logging.DEBUG:
        metrics.setLevel(logging.WARNING)


class InvalidSettingsError(Exception):
    """Settings the config schema refuses, each named, no secret's value shown.

    Raised instead of the SDK's `ConfigValidationError`, which the SDK's own command
    catches while a plugin runs and turns into log lines (with the refused values) and an
    exit code; this one reaches `suite_common.cli.run_cli`, which prints its one line."""

    def __init__(self, refused: ConfigValidationError) -> None:
        errors = without_secrets(refused).errors
        super().__init__(f"invalid settings: {'; '.join(errors) or refused}")


def without_secrets(exc: ConfigValidationError) -> ConfigValidationError:
    """The same refusal with no secret's value in it: the schema validator quotes the value
    it refused (`987654321 is not of type 'string' in config['api_key']`), and the SDK logs
    its errors as they are."""
    properties = (exc.schema or {}).get("properties", {})
    secrets = [name for name, schema in properties.items() if schema.get("secret")]
    errors = [
        next(
            (
                f"config['{name}'] has a value of the wrong type or form (not shown: secret)"
                for name in secrets
                if f"config['{name}']" in error
            ),
            error,
        )
        for error in exc.errors
    ]
    return ConfigValidationError(str(exc), errors=errors, schema=exc.schema)
