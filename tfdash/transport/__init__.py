"""Reaching agents: byte channels (local subprocess, later SSH), JSON-RPC, host sessions."""
