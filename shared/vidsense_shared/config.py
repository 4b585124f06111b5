"""Settings: one validated model per function, read once from the environment."""

from __future__ import annotations

from functools import cache
from typing import TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed; the message names it."""


class BaseServiceSettings(BaseSettings):
    """Settings every function has. Environment variable names are the field names upper-cased."""

    model_config = SettingsConfigDict(case_sensitive=False, frozen=True, extra="ignore")

    stage: str = Field(pattern=r"^[a-z][a-z0-9-]{0,15}$")


SettingsT = TypeVar("SettingsT", bound=BaseServiceSettings)


def load_settings[SettingsT: BaseServiceSettings](model: type[SettingsT]) -> SettingsT:
    try:
        return model()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors())
        raise ConfigurationError(f"invalid configuration for {model.__name__}: {problems}") from exc


@cache
def cached_settings[SettingsT: BaseServiceSettings](model: type[SettingsT]) -> SettingsT:
    return load_settings(model)
