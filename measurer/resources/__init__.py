"""Data files bundled with measurer: the sample images and the application icon."""
