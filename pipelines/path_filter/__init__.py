"""Starts a service's pipeline on a CodeCommit push only when that service's paths changed.

CodeCommit source actions have no file-path filters (CodeConnections triggers do), so an EventBridge rule on
pushes invokes this function, which asks CodeCommit for the changed files and starts the pipeline when one of
them matches. ``matching`` is pure; ``handler`` talks to CodeCommit and CodePipeline.
"""
