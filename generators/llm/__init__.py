"""The `llm` generator: a transformer that writes rows token by token (see
synthwright.generators.llm.generator)."""
