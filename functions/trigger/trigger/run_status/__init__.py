"""Tells a person, once, how each run of the pipeline ended."""
