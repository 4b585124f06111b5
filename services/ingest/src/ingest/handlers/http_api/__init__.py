"""The HTTP API's routers (one per concern), the request contract they share and the one error map."""
