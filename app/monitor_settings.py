"""Settings of the Ruimte monitor (``RUIMTE_MONITOR_*``), read at the app edge only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class MonitorSettings(BaseSettings):
    """Where the monitor's milestones and rules come from."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_MONITOR_", env_file=".env", extra="ignore")

    config: Path | None = None
    """A YAML file replacing ``scenarios/monitor.yaml`` (layers, indicators, milestones, rules)."""


@lru_cache
def get_monitor_settings() -> MonitorSettings:
    """Monitor settings from the environment (cached)."""
    return MonitorSettings()
