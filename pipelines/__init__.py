"""Per-service delivery pipelines: the template generator and the CodeCommit path-filter function."""
