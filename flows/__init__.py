"""Orchestration: the pipeline's steps as a Prefect flow. The only package that imports prefect.

Defaults set here (only where the user has not set them) keep the embedded mode quiet, offline and
patient on small machines; see STACK-NOTES.md for the measurements behind each.
"""

import os

from synthwright import _as_subpackage

_as_subpackage(__name__)

for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # else a DNS lookup of Prefect's telemetry host
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",  # cold start on 2 cores can take 20 s+
    "PREFECT_LOGGING_EXTRA_LOGGERS": "synthwright",  # our step logs appear in Prefect's run logs
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",  # steps also log outside flows (library use)
}.items():
    os.environ.setdefault(_key, _value)
