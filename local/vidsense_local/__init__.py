"""The embedded local stack: one local AWS endpoint, stand-ins, function runtime and HTTP API."""
