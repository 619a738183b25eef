"""The modality-free core: run state, the graph and its nodes, the tag parser, faults, checkpoints, review.

Nothing in here imports or names a modality; modalities arrive as data in the run context.
"""
