"""Analysis passes: each a pure function of a `Network`, returning one record per layer."""
