"""Domain logic per resource. Services add and flush; the caller's unit of work commits."""
