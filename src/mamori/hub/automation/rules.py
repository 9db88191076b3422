"""The automation rules file: what to do with which findings.

    name: prod-response            # optional; keys the run's watermark (default: file name)
    rules:
      - id: notify-critical
        description: Critical findings to the security channel
        enabled: true              # default true
        pattern:                   # EventBridge content filtering over the ASFF finding
          Severity: {Label: [CRITICAL]}
          Workflow: {Status: [NEW]}
        actions:                   # run in order; a failure stops the rule's later actions
          - type: webhook
            format: slack
            url_env: MAMORI_SLACK_WEBHOOK
          - type: set_workflow
            status: NOTIFIED

Validation is strict, as for the mutelist: an unknown key, an unknown action type, a bad
parameter or pattern, a repeated id is an error naming the rule and the key, and nothing runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from mamori.core import InputError
from mamori.hub.automation.actions import ActionParams, registry
from mamori.hub.automation.pattern import Matcher, compile_pattern
from mamori.hub.rulefile import load_rule_file

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"

if TYPE_CHECKING:
    ActionItem = ActionParams
else:
    # One tagged union of every registered action's parameters: pydantic picks the model by
    # `type` and names it in errors (rules[0].actions[1].webhook.url_env).
    ActionItem = Annotated[
        Union[tuple(spec.params for spec in registry().values())],  # noqa: UP007
        Field(discriminator="type"),
    ]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    description: str = ""
    enabled: bool = True
    pattern: dict[str, Any]
    actions: list[ActionItem] = Field(min_length=1)
    _matcher: Matcher = PrivateAttr()

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            compile_pattern(value, "")
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return value

    def model_post_init(self, context: Any, /) -> None:
        self._matcher = compile_pattern(self.pattern)

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self._matcher(event)

    @property
    def remediates(self) -> bool:
        specs = registry()
        return any(specs[a.type].remediates for a in self.actions)


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, pattern=_ID)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is given twice")
            seen.add(rule.id)
        return self

    @property
    def enabled(self) -> list[Rule]:
        return [r for r in self.rules if r.enabled]


def load_rules(path: Path) -> RuleSet:
    """The rules in `path`, named after the file when they carry no name of their own."""
    rules = load_rule_file(path, RuleSet, "automation rules")
    if rules.name is None:
        stem = "".join(c if c.isalnum() or c in "_.:-" else "-" for c in path.stem)[:128]
        rules = rules.model_copy(update={"name": stem.strip("-._:") or "rules"})
    return rules
