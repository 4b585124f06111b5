"""Settings: one validated model per function, read once from the environment."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed; the message names it."""


class BaseServiceSettings(BaseModel):
    """Settings every function has. Environment variable names are the field names upper-cased.

    A plain pydantic model filled from os.environ (names matched without regard to case, values a keyword
    argument overrides): every field is a scalar, so pydantic-settings' sources, dotenv and CLI parsing would only
    cost import time in each cold start and size in each package (docs/performance.md, Lambda cold init)."""

    # Built on first use: a service module declares the settings of each of its functions, a function loads one.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    stage: str = Field(pattern=r"^[a-z][a-z0-9-]{0,15}$")

    def __init__(self, **values: Any) -> None:
        environment = {name.lower(): value for name, value in os.environ.items()}
        from_environment = {name: environment[name] for name in type(self).model_fields if name in environment}
        super().__init__(**(from_environment | values))


def load_settings[SettingsT: BaseServiceSettings](model: type[SettingsT]) -> SettingsT:
    try:
        return model()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors())
        raise ConfigurationError(f"invalid configuration for {model.__name__}: {problems}") from exc
