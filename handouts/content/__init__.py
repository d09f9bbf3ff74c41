"""Clinical content: the YAML model, its loading with line numbers, and the names it may use."""
