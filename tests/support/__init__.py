"""What the tests share: running taps and pipelines (`singer_run`, `meltano_project`), the
four pipelines and their truth (`pipelines`, `contact_truth`, `funnel`), the independent
oracle (`oracle`), and parsing the source (`syntax`)."""
