terraform {
  # 1.10: the S3 backend's `use_lockfile` (state locking without DynamoDB, terraform/env/
  # aws.s3.tfbackend.example); 1.9: validations that refer to other variables (variables.tf).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is the version the project is tested with (and the one in the offline mirror);
      # `~>` still accepts later 5.x fixes, but never 6.x, whose breaking changes are untested.
      version = "~> 5.100"
    }
  }
}
