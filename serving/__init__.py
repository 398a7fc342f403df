"""FastAPI app, API schemas, settings, feedback store, review page and the `medcode` CLI."""
