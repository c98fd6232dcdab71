"""tap-legacy-erp: a Singer tap built on the Meltano Singer SDK."""
