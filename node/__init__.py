"""One city node: its runtime, its features, the app factory and the CLI."""

VERSION = "0.1.0"
