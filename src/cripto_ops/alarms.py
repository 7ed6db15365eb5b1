"""Alarm states of the deployed stack (every CloudWatch alarm named ``<alarm_name_prefix>*``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, List, Optional

from cripto_ops.stack import StackOutputs

#: Order in the table: what needs attention first.
STATE_ORDER = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}


@dataclass(frozen=True)
class AlarmState:
    """One alarm as `make status` shows it."""

    name: str
    state: str
    reason: str
    since: Optional[datetime]
    description: str

    def as_dict(self) -> dict:
        return {"name": self.name, "state": self.state, "reason": self.reason,
                "since": self.since.isoformat() if self.since else None, "description": self.description}


def alarm_states(cloudwatch: Any, stack: StackOutputs) -> List[AlarmState]:
    """The stack's alarms, ALARM first; empty when the stack predates monitoring (no prefix output)."""
    prefix = stack.raw.get("alarm_name_prefix")
    if not prefix:
        return []
    alarms = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix):
        for alarm in page.get("MetricAlarms", []):
            alarms.append(AlarmState(
                name=alarm["AlarmName"][len(prefix):],
                state=alarm.get("StateValue", "INSUFFICIENT_DATA"),
                reason=alarm.get("StateReason", ""),
                since=alarm.get("StateUpdatedTimestamp"),
                description=alarm.get("AlarmDescription", ""),
            ))
    return sorted(alarms, key=lambda a: (STATE_ORDER.get(a.state, 3), a.name))
