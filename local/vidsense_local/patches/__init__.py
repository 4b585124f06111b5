"""Narrow, documented patches that make moto behave as AWS does where vidsense depends on it."""
