# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.
"""One class per REST resource, reached as attributes of the client (``scope.prompts``)."""
