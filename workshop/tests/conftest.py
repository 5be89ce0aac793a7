"""The classroom's tests reuse the browser constants of tests/ (its marks are registered here too)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's chromium")
    config.addinivalue_line("markers", "wheel: builds and installs the wheel")
