"""Executing prompt versions against models: render, call, measure, record.

``execute`` is the engine (``POST /executions``); ``simulator_server`` serves the
provider simulator from inside the API process for ``simulator`` providers.
"""
