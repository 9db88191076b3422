"""The emulated AWS organisation behind `mamori demo`."""
