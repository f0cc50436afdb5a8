"""The web layer: thin Flask adapters (pages, public API, agency API) over the core."""
