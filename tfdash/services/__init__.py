"""What the UI and the CLI show and do, without Textual: jobs, logs, the demo job."""
