"""Every write of the insights app, one module per use case."""
