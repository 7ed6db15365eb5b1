# Lambda would create /aws/lambda/<name> on first use with infinite retention; creating the groups
# here sets the retention and lets `terraform destroy` remove them. The functions depend on them.
resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a KMS key would need a key policy for the logs service.
  #checkov:skip=CKV_AWS_338:Retention is log_retention_days (14 by default): operational logs, not an audit record.
  for_each = local.lambda_log_group_names

  name              = each.value
  retention_in_days = var.log_retention_days
}

# Glue Python shell jobs log to two fixed groups, Spark jobs' drivers to two others (stream = job run
# id). They are shared by every Glue job of the account and region, so they are optional (manage_glue_log_groups):
# in an account where they already exist, set it to false or `terraform import` them. `destroy`
# never deletes them (skip_destroy: it only forgets them), so other jobs' logs survive.
resource "aws_cloudwatch_log_group" "glue" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a KMS key would need a key policy for the logs service.
  #checkov:skip=CKV_AWS_338:Retention is log_retention_days (14 by default): operational logs, not an audit record.

  for_each = var.manage_glue_log_groups ? toset(concat(local.glue_log_group_names, local.glue_spark_log_group_names)) : toset([])

  name              = each.value
  retention_in_days = var.log_retention_days
  skip_destroy      = true

  lifecycle {
    # Shared groups, often created by Glue itself before this stack adopts them (see
    # scripts/adopt_shared_log_groups.py): their tags are not this project's to rewrite. Tagging a
    # pre-existing group is also not read back by LocalStack 2026.3.0, which would leave a diff.
    ignore_changes = [tags, tags_all]
  }
}
