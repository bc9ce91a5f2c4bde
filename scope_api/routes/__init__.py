"""One thin router per resource: parse, authorize, call one service, return a schema."""
