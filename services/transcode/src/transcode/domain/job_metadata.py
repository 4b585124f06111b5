"""The ``UserMetadata`` vidsense attaches to every MediaConvert job (docs/architecture.md, "Job identities").

MediaConvert echoes it in every "MediaConvert Job State Change" event, which is how the relay knows the stage,
the answer attempt and the event chain a job belongs to without a table lookup.
"""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidsense_shared.events import APP, AnswerRef, Attempt, ProjectId, StepId, UserKey


class InvalidJobMetadataError(ValueError):
    """A job tagged for this stage carries user metadata vidsense cannot read."""


class JobMetadata(BaseModel):
    # Built on first use, only by the functions that read jobs' metadata (docs/performance.md).
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    app: str
    stage: str
    answer_key: str = Field(description="The video key in the media bucket")
    project: ProjectId
    step: StepId
    user_key: UserKey
    attempt: Attempt
    correlation_id: str
    causation_id: str

    @classmethod
    def for_attempt(cls, stage: str, ref: AnswerRef, *, causation_id: str) -> Self:
        return cls(
            app=APP,
            stage=stage,
            answer_key=ref.video_key,
            project=ref.project,
            step=ref.step,
            user_key=ref.user_key,
            attempt=ref.attempt,
            correlation_id=ref.answer_id,
            causation_id=causation_id,
        )

    @classmethod
    def from_user_metadata(cls, user_metadata: dict[str, str]) -> Self:
        try:
            return cls.model_validate(user_metadata)
        except ValidationError as exc:
            raise InvalidJobMetadataError(f"unreadable MediaConvert user metadata: {exc}") from exc

    def to_user_metadata(self) -> dict[str, str]:
        """MediaConvert's UserMetadata is a string-to-string map."""
        return {key: str(value) for key, value in self.model_dump().items()}

    @property
    def answer_ref(self) -> AnswerRef:
        return AnswerRef(project=self.project, step=self.step, user_key=self.user_key, attempt=self.attempt)
