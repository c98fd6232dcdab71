"""tap-callrail: a Singer tap built on the Meltano Singer SDK."""
