"""Fixture plugins shared by several tiers (pytest_plugins is only honoured here)."""

pytest_plugins = ["support.sshd_fixtures", "support.ssh_fixtures"]
