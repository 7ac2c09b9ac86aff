"""The browser page: `sgns serve` (a Starlette app over runs loaded once)."""
