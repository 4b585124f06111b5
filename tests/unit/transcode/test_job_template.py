"""The committed MediaConvert job template: valid for botocore's CreateJob model and filled in by structure."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.validate import validate_parameters

from transcode.adapters import mediaconvert
from transcode.domain import naming
from transcode.domain.ports import TranscodeRequest

REQUEST = TranscodeRequest(
    input_uri="s3://vidsense-dev-media-123456789012/acme/2/key.webm",
    destination_uri="s3://vidsense-dev-work-123456789012/dev/audio/acme/2/key/attempt-1/answer",
    user_metadata={"app": "vidsense", "stage": "dev"},
    client_request_token="7a0b3c5e-5f0d-5c1e-9a35-1b1d64d3f0c2",
)
ROLE = "arn:aws:iam::123456789012:role/vidsense-dev-mediaconvert"


def _operation_input_shape():
    client = boto3.client("mediaconvert", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client.meta.service_model.operation_model("CreateJob").input_shape


def test_filled_template_is_a_valid_create_job_request():
    # Given the committed template, When filled for one job, Then botocore's CreateJob model accepts it
    params = mediaconvert.build_create_job_request(
        mediaconvert.load_template(),
        REQUEST,
        role_arn=ROLE,
        queue_arn="arn:aws:mediaconvert:us-east-1:123456789012:queues/Default",
    )
    validate_parameters(params, _operation_input_shape())  # raises ParamValidationError otherwise
    assert params["Settings"]["Inputs"][0]["FileInput"] == REQUEST.input_uri
    group = params["Settings"]["OutputGroups"][0]["OutputGroupSettings"]
    assert group["FileGroupSettings"]["Destination"] == REQUEST.destination_uri
    assert params["Role"] == ROLE
    assert params["UserMetadata"] == REQUEST.user_metadata
    assert params["ClientRequestToken"] == REQUEST.client_request_token
    assert params["Queue"].endswith(":queues/Default")


def test_the_rendition_is_an_audio_only_mp3_matching_the_key_contract():
    # The relay and the transcript step expect "<destination>.mp3": the template must produce exactly that.
    template = mediaconvert.load_template()
    (output,) = template["Settings"]["OutputGroups"][0]["Outputs"]
    assert output["Extension"] == naming.AUDIO_EXTENSION
    assert "NameModifier" not in output
    assert "VideoDescription" not in output
    assert output["AudioDescriptions"][0]["CodecSettings"]["Codec"] == "MP3"


def test_filling_does_not_mutate_the_cached_template_and_omits_queue_when_unset():
    template = mediaconvert.load_template()
    before = json.dumps(template, sort_keys=True)
    params = mediaconvert.build_create_job_request(template, REQUEST, role_arn=ROLE, queue_arn=None)
    assert "Queue" not in params
    assert json.dumps(template, sort_keys=True) == before
    assert not any(key.startswith("_") for key in template)


def test_a_template_without_a_file_group_is_refused():
    with pytest.raises(mediaconvert.TemplateError):
        mediaconvert._check_shape({"Settings": {"Inputs": [{}], "OutputGroups": []}})
