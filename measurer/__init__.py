"""measurer: measure features in micrographs and retinal segmentation masks."""

__version__ = "0.1.0"
