"""What the local engine's fork server loads once, before it forks any worker.

Workers forked from it start with spaCy and the English pipeline already in memory (shared copy-on-write)
instead of each paying ~0.5 s to import and load them; ``import spacy`` is the quick one (no torch, no
spaCy command line: :mod:`mmthink.modalities.image.spacy_import`). The heap is then frozen (``gc.freeze``):
a collection in a worker would otherwise touch every inherited object and copy the pages they sit on.
"""

from __future__ import annotations

import gc

from mmthink.modalities.image.pipelines import pipeline

pipeline()  # None where spaCy or the pipeline is not installed: workers then read requests by rules
gc.freeze()
