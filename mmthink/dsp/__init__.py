"""Signal helpers every modality shares, one of each: resampling, WAV encoding, colour space, fonts."""
