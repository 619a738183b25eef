"""The speech modality: everything about making speech lives in this folder."""
