"""The JSON API under `/api/v1`; its OpenAPI document is `/api/v1/openapi.json`."""
