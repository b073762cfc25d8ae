"""CloudWatch Logs: FilterLogEvents interleaves every stream of a group by time, as AWS does.

AWS (FilterLogEvents, ``interleaved``): "As of June 17, 2019, this parameter is ignored and the
value is assumed to be true. The response from this operation always interleaves events from
multiple log streams within a log group." moto 5.2.5 still honours the flag and, by default,
returns stream after stream - so a Lambda function's log read back through FilterLogEvents
(one stream per execution environment) comes out of order whenever two environments ran.
"""

from __future__ import annotations


def install() -> None:
    from moto.logs.models import LogGroup

    original = LogGroup.filter_log_events
    if getattr(original, "_edalab", False):
        return

    def filter_log_events(self, log_group_name, log_stream_names, start_time, end_time, limit,
                          next_token, filter_pattern, interleaved):
        return original(self, log_group_name, log_stream_names, start_time, end_time, limit,
                        next_token, filter_pattern, True)

    filter_log_events._edalab = True
    LogGroup.filter_log_events = filter_log_events
