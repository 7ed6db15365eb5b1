# Endpoints and credentials come from the environment, exactly as for boto3:
#   AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_GLUE), AWS_S3_USE_PATH_STYLE,
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE.
# scripts/terraform.sh sets them for the local emulation; nothing here knows which one it talks to.
provider "aws" {
  region = var.aws_region
  # Refuses to plan or apply with credentials of any other account (env/<env>.tfvars).
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = merge(var.tags, {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
