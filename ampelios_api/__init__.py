"""The Ampelios HTTP API: GraphQL and REST over Starlette."""
