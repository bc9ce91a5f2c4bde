"""An HTTP simulator of the OpenAI, Anthropic and Gemini APIs, for tests, demos and benchmarks.

It speaks each provider's real wire format at its real path, so an adapter
pointed at the simulator's URL runs unchanged (``app``); answers
deterministically and counts tokens plausibly (``behaviour``); and injects
latency and faults chosen per request by ``x-simulator-*`` headers
(``faults``). Run it alone with ``scope simulate --port P``.
"""

from scope_api.providers.simulator.app import create_simulator_app

__all__ = ["create_simulator_app"]
