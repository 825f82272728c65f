"""Helpers of the test suite, one module per concern; fixtures are registered by conftest."""
