"""The Tap base every tap of the suite extends: what each does alike when it starts.

- Records are written in buffered blocks (`suite_common.messages`).
- `--test=schema` compares the live source with the schemas (`suite_common.drift`).
- A setting the tap does not know (`api_urll`) gets a warning naming the closest known one:
  the SDK ignores unknown settings silently, so a typo looked like a default.
- METRIC lines, half of every log, are shown only at `LOGLEVEL=DEBUG` (or the plugin's own
  `<TAP_NAME>_LOGLEVEL=DEBUG`).
"""

from __future__ import annotations

import logging
import typing as t

from singer_sdk import Tap
from singer_sdk.metrics import get_metrics_logger

from suite_common.drift import SchemaDriftCheck
from suite_common.messages import BufferedRecordsWriter
from suite_common.settings import unknown_settings


class SuiteTap(SchemaDriftCheck, Tap):
    """A singer-sdk Tap with the suite's start-up behaviour (see the module docstring)."""

    message_writer_class = BufferedRecordsWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        known = self.config_jsonschema.get("properties", {})
        for text in unknown_settings(self.config, known):
            self.logger.warning("%s", text)
        metrics = get_metrics_logger()
        if metrics.getEffectiveLevel() > logging.DEBUG:
            metrics.setLevel(logging.WARNING)
