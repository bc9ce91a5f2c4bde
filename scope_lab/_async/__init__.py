"""The asyncio client. The blocking client in ``scope_lab/_sync`` is generated from it."""
