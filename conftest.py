# Shared fixtures (real broker, real database) for every test in the repository.
pytest_plugins = ["socialops_common.testing"]
