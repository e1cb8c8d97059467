"""A pipeline of the "user's own" kind: it reads one S3 URI (InputDataUrl), takes an instance-type
parameter, and knows nothing of the bundled pipeline's InputBucket/InputKey. Built with the
SageMaker Python SDK v3 on the scikit-learn 1.9-0 image, so the local runner can execute it."""
