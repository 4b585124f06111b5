"""The local AWS endpoint (``http://127.0.0.1:4566``): moto in this process plus the stand-ins.

Public API::

    edge = start_edge(4566, runtime, standins, host="127.0.0.1", account_id=..., region=...)
                 # port 0 picks a free port; returns once the port accepts connections
    edge.url     # "http://127.0.0.1:4566"
    edge.port
    edge.stop()  # stops the HTTP server, the stand-ins and removes the moto delivery hooks (idempotent;
                 # stop the runtime separately: it belongs to the caller)

Requests are dispatched by the SigV4 credential scope's service name (``Authorization`` header or the
``X-Amz-Credential`` query parameter of presigned URLs): a stand-in's ``signing_names`` go to that stand-in,
everything else (including unsigned S3 form uploads) to moto's WSGI app. Lambda ``Invoke``
(``POST /2015-03-31/functions/{name}/invocations``) runs the function in ``runtime``.

While an edge runs with a runtime, moto's own deliveries that cannot work without Docker are taken over in
process (see ``vidsense_local.edge.delivery``): EventBridge rule targets that are Lambda functions or SNS
topics, SNS subscriptions with protocol ``lambda`` and S3 bucket notifications to Lambda. Only one edge with a
runtime can run per process (the hooks patch moto's classes). A stand-in with ``set_event_sink`` gets
``sink(source, detail_type, detail, resources=None)`` that puts the event on the default bus in process.
"""

from vidsense_local.edge.server import EdgeHandle, start_edge

__all__ = ["EdgeHandle", "start_edge"]
