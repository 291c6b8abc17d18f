"""A proxy callback that appends every success and failure event to the file named by E2E_EVENT_LOG."""

import json
import os

from litellm.integrations.custom_logger import CustomLogger


class EventLog(CustomLogger):
    def _write(self, kind: str, kwargs: dict) -> None:
        payload = kwargs.get("standard_logging_object") or {}
        metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        record = {
            "kind": kind,
            "model": payload.get("model"),
            "stream": payload.get("stream"),
            "response_cost": payload.get("response_cost"),
            "prompt_tokens": payload.get("prompt_tokens"),
            "completion_tokens": payload.get("completion_tokens"),
            "cache_hit": payload.get("cache_hit"),
            "requester_metadata": (payload.get("metadata") or {}).get("requester_metadata"),
            "buffered_stream": metadata.get("buffered_stream"),
            "usage_estimated": metadata.get("buffered_stream_usage_estimated"),
            "response": payload.get("response"),
        }
        with open(os.environ["E2E_EVENT_LOG"], "a") as f:
            f.write(json.dumps(record, default=str) + "\n")

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._write("success", kwargs)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._write("failure", kwargs)


event_log = EventLog()
