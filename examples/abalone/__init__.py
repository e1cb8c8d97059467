"""The pipeline of the AWS samples' abalone notebook and MLOps seed code, its shape as they publish it
(Preprocess -> Train -> Evaluate -> MSE condition -> RegisterModel, CreateModel -> Transform), built with
the SageMaker Python SDK v3 on the images the samples use (scikit-learn 1.2-1, XGBoost 1.7-1), with step
scripts of its own that read and write what the samples' scripts do."""
