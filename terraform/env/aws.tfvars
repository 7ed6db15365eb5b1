# A real AWS account (scripts/deploy.sh aws). Credentials come from the usual AWS variables or
# profile; no endpoint variable may be set.
aws_region  = "us-east-1"
environment = "dev"

# The provider refuses to touch any other account: put your 12-digit account id here
# (`aws sts get-caller-identity --query Account`).
# allowed_account_ids = ["123456789012"]

# Bucket names are global across all AWS accounts. Unset, the name is <project>-<environment>-<account id>.
# s3_bucket_name = "my-own-bucket-name"

bucket_force_destroy = false
lambda_log_level     = "INFO"

# Set to false (or `terraform import` them) if the account already has the shared
# /aws-glue/python-jobs/{output,error} log groups.
manage_glue_log_groups = true
