"""What a conversation chose for its replies: a model, and thinking on or off.

A choice never made follows the server's defaults (`ANTHROPIC_MODEL`, `THINKING`), so a
conversation that never chose follows a change of them; a choice made is stored with the
conversation and survives reloads and restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatehouse import protocol
from gatehouse.llm import ReplyOptions


@dataclass(frozen=True)
class Choices:
    model: str | None = None
    thinking: bool | None = None

    def changed(self, model: str | None, thinking: bool | None) -> Choices:
        """These choices with the fields a `configure` frame set."""
        return Choices(
            model=self.model if model is None else model,
            thinking=self.thinking if thinking is None else thinking,
        )

    def applied(self, defaults: ReplyOptions) -> ReplyOptions:
        return ReplyOptions(
            model=self.model or defaults.model,
            thinking=defaults.thinking if self.thinking is None else self.thinking,
        )


def settings_data(options: ReplyOptions) -> protocol.ConversationSettingsData:
    return protocol.ConversationSettingsData(model=options.model, thinking=options.thinking)
