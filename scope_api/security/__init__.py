"""Authentication and authorization: API keys, JWTs, roles."""
