"""HTTP layer of the community core: thin views over services and selectors."""
