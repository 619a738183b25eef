"""Adapters between step tags and the tools/critics that render and judge them, one module per modality."""
