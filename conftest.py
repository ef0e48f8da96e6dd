"""Every test in the repository gets the real-server fixtures of the kernel."""

pytest_plugins = ["fursa.shared.testing.fixtures"]
