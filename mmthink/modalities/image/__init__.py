"""The image modality: everything about making image lives in this folder."""
