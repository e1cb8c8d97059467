"""Scripts that play a SageMaker image's own program, run inside that image's look-alike environment.

Each runs with the image's Python and libraries (see pipeline/images.py), so each is written for the
oldest of them and imports nothing from this project.
"""
