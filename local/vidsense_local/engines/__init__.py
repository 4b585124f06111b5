"""Offline engines behind the local stand-ins: transcoding (PyAV), speech to text (faster-whisper) and sentiment
(VADER). Plain functions and classes, no AWS: the benchmark times them on their own to compare with the pipeline."""
