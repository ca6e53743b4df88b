"""The one error type a user mistake raises: it names the config key path and the rule broken."""

from __future__ import annotations


class ConfigError(ValueError):
    """A scenario or run setting breaks a rule; `key` is the dotted path, `rule` what it must obey."""

    def __init__(self, key: str, rule: str) -> None:
        self.key = key
        self.rule = rule
        super().__init__(f"{key}: {rule}" if key else rule)
