# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
variable "job_name" {
  description = "Name of the Glue job (unique per test run)."
  type        = string
}

variable "bucket_name" {
  description = "S3 bucket that holds the job script."
  type        = string
}

# ---------------------------------------------------------------------------------------------
# Placement
# ---------------------------------------------------------------------------------------------
variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"
}

variable "role_arn" {
  description = "IAM role the job assumes (not created here: the Glue service does not check it)."
  type        = string
  default     = "arn:aws:iam::000000000000:role/glue-terraform-test"
}
