"""Examples of using retrain-trigger with a pipeline of one's own."""
