"""The retrain trigger: turns S3 upload notifications into SageMaker Pipeline executions."""
