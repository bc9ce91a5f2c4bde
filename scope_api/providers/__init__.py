"""LLM providers: one adapter per wire format, the model catalog, and the simulator."""
