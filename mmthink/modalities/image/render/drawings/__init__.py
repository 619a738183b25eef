"""The painters: one function ``p_<kind>(pen)`` per drawing, grouped by what they show.

:mod:`~mmthink.modalities.image.render.drawables` gathers them into ``PAINTERS`` and decides which
one a name gets; :mod:`.pen` holds the primitives they share.
"""
