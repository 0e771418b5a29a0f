"""One module per benchmark scenario; each exposes `run(context) -> ScenarioResult`."""
