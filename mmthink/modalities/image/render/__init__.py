"""Image renderers: the embedded procedural painter (layout + drawables) and diffusers."""
