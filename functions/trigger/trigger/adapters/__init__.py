"""The only modules that talk to AWS. Each translates AWS errors into the project's own
(trigger.errors), so no botocore error reaches the logic layer."""
