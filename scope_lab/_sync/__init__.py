# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.
"""The blocking client."""
