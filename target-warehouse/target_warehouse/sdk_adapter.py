"""Every singer-sdk internal target-warehouse relies on, behind public names, in one place.

The SDK's listen loop hands each message to a private `_process_<type>_message` and emits
state through `_write_state_message`; its sinks live in `_sinks_active`. The target needs
them (a record path without the SDK's per-record calls, state held until rows commit, the
SDK's own message checks refused in one line), and nothing else in the package may touch
them: `TargetAdapter` forwards each to a public method the target overrides, and
`SDK_INTERNALS` lists them so that suite-common's `check_sdk_internals` (run by the
command before anything else, and by the tests) fails loudly, naming what changed, when a
singer-sdk release renames one.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Target
from suite_common.sdk_adapter import Internal

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink


SDK_INTERNALS: tuple[Internal, ...] = (
    Internal(Target, "_process_record_message", ("message_dict",)),
    Internal(Target, "_process_schema_message", ("message_dict",)),
    Internal(Target, "_process_state_message", ("message_dict",)),
    Internal(Target, "_process_activate_version_message", ("message_dict",)),
    Internal(Target, "_process_batch_message", ("message_dict",)),
    Internal(Target, "_write_state_message", ("state",)),
    Internal(Target, "listen", ("file_input",)),  # final in the SDK: forwarded to listen_to
    Internal(Target, "_handle_max_record_age", ()),
    Internal(Target, "_assert_line_requires", ("message_dict", "requires")),
    Internal(Target, "_sinks_active"),
    Internal(Target, "_sinks_to_clear"),
    Internal(Target, "_latest_state"),
)


class TargetAdapter(Target):
    """The SDK target with its private message hooks forwarded to public methods.

    Override `handle_record_message`, `handle_schema_message`, …; call `sdk_handle_…` for
    the SDK's own handling. The SDK's line checks go to `require_fields`.
    """

    def listen(self, file_input: t.IO[str] | None = None) -> None:  # type: ignore[misc]  # final
        self.listen_to(file_input)

    def listen_to(self, file_input: t.IO[str] | None = None) -> None:
        """Read and process every message (the SDK's `listen`, which it marks final)."""
        Target.listen(self, file_input)

    # Messages, as the SDK's listen loop hands them over ----------------------------------

    def _process_record_message(self, message_dict: dict) -> None:
        self.handle_record_message(message_dict)

    def _process_schema_message(self, message_dict: dict) -> None:
        self.handle_schema_message(message_dict)

    def _process_state_message(self, message_dict: dict) -> None:
        self.handle_state_message(message_dict)

    def _process_activate_version_message(self, message_dict: dict) -> None:
        self.handle_activate_version_message(message_dict)

    def _process_batch_message(self, message_dict: dict) -> None:
        self.handle_batch_message(message_dict)

    def _write_state_message(self, state: dict) -> None:
        self.emit_state(state)

    def _assert_line_requires(self, message_dict: dict, requires: set[str]) -> None:
        self.require_fields(message_dict, requires)

    # The public hooks and the SDK's own handling --------------------------------------------

    def handle_record_message(self, message_dict: dict) -> None:
        self.sdk_handle_record_message(message_dict)

    def handle_schema_message(self, message_dict: dict) -> None:
        self.sdk_handle_schema_message(message_dict)

    def handle_state_message(self, message_dict: dict) -> None:
        self.sdk_handle_state_message(message_dict)

    def handle_activate_version_message(self, message_dict: dict) -> None:
        self.sdk_handle_activate_version_message(message_dict)

    def handle_batch_message(self, message_dict: dict) -> None:
        super()._process_batch_message(message_dict)

    def emit_state(self, state: dict) -> None:
        self.sdk_emit_state(state)

    def require_fields(self, message_dict: dict, requires: set[str]) -> None:
        super()._assert_line_requires(message_dict, requires)

    def sdk_handle_record_message(self, message_dict: dict) -> None:
        super()._process_record_message(message_dict)

    def sdk_handle_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)

    def sdk_handle_state_message(self, message_dict: dict) -> None:
        super()._process_state_message(message_dict)

    def sdk_handle_activate_version_message(self, message_dict: dict) -> None:
        super()._process_activate_version_message(message_dict)

    def sdk_emit_state(self, state: dict) -> None:
        super()._write_state_message(state)

    def check_max_record_age(self) -> None:
        """The SDK's drain of every sink once `max_record_age` passed."""
        self._handle_max_record_age()

    # The SDK's bookkeeping ------------------------------------------------------------------

    def active_sink(self, alias: str) -> Sink | None:
        """The sink of a stream (or a stream map's alias) whose SCHEMA arrived, if any."""
        return self._sinks_active.get(alias)

    @property
    def active_sinks(self) -> dict[str, Sink]:
        return self._sinks_active

    @property
    def retired_sinks(self) -> list[Sink]:
        """Sinks a newer SCHEMA replaced that still have to be drained and cleaned up."""
        return self._sinks_to_clear

    @property
    def latest_state(self) -> dict | None:
        """The last STATE the tap sent, which the SDK emits at the end of the pipe."""
        return self._latest_state

    @latest_state.setter
    def latest_state(self, state: dict | None) -> None:
        self._latest_state = state
