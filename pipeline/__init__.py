"""The SageMaker Pipeline that retrain-trigger starts: definition, step scripts and CLI.

It knows nothing about triggers; its contract is the two parameters InputBucket and InputKey.
"""
