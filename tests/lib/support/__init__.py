"""Test support: real databases, real node processes on loopback ports."""
