"""What a Lambda execution environment builds once and keeps: kept out of the cyclic garbage collector's scans.

A function's init leaves about 100 000 objects that live as long as the process (modules, classes, pydantic
validators, botocore's service models, parsed into tens of thousands of OrderedDicts). CPython's cyclic collector
scans every one of them again in each full collection, and one came in the middle of the init (creating the
clients, or loading the X-Ray SDK): nlp's analyzeSentiment spent 60-90 ms of its init in the collector, 20-25 ms
with these freezes (docs/performance.md, Lambda cold init). ``gc.freeze()`` moves every object tracked
so far into the collector's permanent generation: no later collection scans them, in the init or in any warm
invocation. What that gives up: a garbage cycle among them would never be collected, and the init leaves almost
none (the collections of a whole init find a few hundred objects)."""

import gc
import os


def in_lambda() -> bool:
    """In a Lambda execution environment (the runtime sets LAMBDA_TASK_ROOT; SAM's local emulation too, so it is
    left out as Powertools does). Tests and the local stack's workers set neither: nothing is frozen there."""
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")


def keep_for_process_life() -> None:
    """Freeze everything tracked so far: called where the init has built what the process keeps (the handler
    decorated at the end of its module's import, each cached client once created)."""
    if in_lambda():
        gc.freeze()
