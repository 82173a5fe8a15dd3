"""The SSH tier's fixtures (login_user, client, start_sshd, sshd) come from
tests/support/sshd_fixtures.py, shared with the UI tier through tests/conftest.py."""
