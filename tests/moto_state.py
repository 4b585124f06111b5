"""One way to empty moto's process-wide backends.

Every in-process moto server (the deploy test's, the stand-ins', the local edge's) shares the same backends, and
pytest-xdist may run their test groups one after another in one worker. A group that leaves rules behind breaks
the next one: moto raises NotImplementedError on a default-bus rule whose Lambda target it cannot deliver to.
So each such fixture starts from, and leaves, empty state.
"""

from __future__ import annotations

from moto.moto_api._internal.models import moto_api_backend


def reset_moto() -> None:
    moto_api_backend.reset()
