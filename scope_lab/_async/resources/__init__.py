"""One class per REST resource, reached as attributes of the client (``scope.prompts``)."""
