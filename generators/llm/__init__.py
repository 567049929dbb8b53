"""The `llm` generator: a transformer that writes rows token by token (see generators.llm.generator)."""
