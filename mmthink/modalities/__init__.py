"""Modalities: each folder holds everything about one kind of output; the registry lists them."""
