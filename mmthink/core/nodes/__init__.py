"""Graph nodes: one plain function per node, (state, runtime) -> only the keys it changes."""
