"""Error.Record and how `error <record>` turns a record into an error."""

from __future__ import annotations

import re
from typing import Any

from ..values import MError, MList, MRecord, force
from . import fn


def format_message(template: str, parameters: Any) -> str:
    """`#{0}` placeholders filled from the parameter list (Message.Format / Message.Parameters)."""
    from ..operators import show

    values = parameters.values() if isinstance(parameters, MList) else []

    def one(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return show(values[i]) if i < len(values) else m.group(0)

    return re.sub(r"#\{(\d+)\}", one, template)


def error_from_record(record: MRecord) -> MError:
    def field(name: str) -> Any:
        return force(record.get(name)) if record.has(name) else None

    reason = field("Reason")
    message = field("Message")
    message_format = field("Message.Format")
    parameters = field("Message.Parameters")
    if message is None and message_format is not None:
        message = format_message(message_format, parameters)
    error = MError(reason if reason is not None else "Expression.Error", message, field("Detail"))
    error.message_format = message_format
    error.message_parameters = parameters
    return error


@fn("Error.Record", 1, 5)
def error_record(
    reason: str, message: Any = None, detail: Any = None, parameters: Any = None, error_code: Any = None
) -> MRecord:
    """Docs: an error record from reason, message and detail; with parameters the message is a format
    (Message.Format) whose `#{n}` are filled from them (Message.Parameters)."""
    fields: dict[str, Any] = {"Reason": reason, "Message": message, "Detail": detail}
    if parameters is not None:
        fields["Message.Format"] = message
        fields["Message.Parameters"] = parameters
        fields["Message"] = format_message(message, parameters) if message is not None else None
    if error_code is not None:
        fields["ErrorCode"] = error_code
    return MRecord(fields)
