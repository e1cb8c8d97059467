"""Step scripts. Each runs on its own in a SageMaker container (or locally) with only its
framework's libraries: no import from this project."""
