"""Event contracts and common code shared by the vidsense services."""
