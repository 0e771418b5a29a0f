from tests.pipeline.conftest import account, configured, run_cli, warehouse  # noqa: F401
