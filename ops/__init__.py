"""`retrain-trigger`: operate a deployed (or local) retrain-trigger from the command line."""
