"""The video modality: everything about making video lives in this folder."""
