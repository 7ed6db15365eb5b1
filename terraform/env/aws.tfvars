# A real AWS account (scripts/deploy.sh aws). Credentials come from the usual AWS variables or
# profile; no endpoint variable may be set.
aws_region  = "us-east-1"
environment = "dev"

# Bucket names are global across all AWS accounts: pick one of your own.
s3_bucket_name = "criptos-data"

bucket_force_destroy = false
lambda_log_level     = "INFO"

# Set to false (or `terraform import` them) if the account already has the shared
# /aws-glue/python-jobs/{output,error} log groups.
manage_glue_log_groups = true
