"""The suite on Dagster: meltano.yml's jobs and schedules as Dagster jobs, assets and
schedules (`orchestrate.definitions`)."""
