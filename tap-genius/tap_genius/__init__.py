"""tap-genius: a Singer tap built on the Meltano Singer SDK."""
