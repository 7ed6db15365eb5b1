# AWS Glue 5.0 Spark job (Spark 3.5.4, Python 3.11): features of datasets too large for the feature
# Lambda (issue 12). Started with --bucket, --dataset, --run_id; reads features/<dataset>/<run_id>/inputs.json
# and writes parts/, manifest.json and last features.parquet (or errors/<dataset>/<run_id>.json).
# Plain PySpark + awsglue.utils.getResolvedOptions, our package through --extra-py-files.
# See https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html

resource "aws_glue_job" "spark_features" {
  #checkov:skip=CKV_AWS_195:The job writes only to the data bucket, whose default encryption applies; no bookmarks or CloudWatch encryption to configure.

  name        = local.spark_features_job_name
  description = "Validates a large dataset's raw files and computes its features with Spark; writes features/<dataset>/<run_id>/."
  role_arn    = aws_iam_role.glue_spark.arn

  glue_version      = "5.0"
  worker_type       = var.spark_worker_type
  number_of_workers = var.spark_number_of_workers
  timeout           = var.spark_timeout_minutes
  # A failed run is reported (FAILED, the Glue-failure alert), not silently repeated.
  max_retries = 0

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_object.artifact["spark_script"].bucket}/${aws_s3_object.artifact["spark_script"].key}"
  }

  execution_property {
    max_concurrent_runs = var.glue_max_concurrent_runs
  }

  # Job run queuing: a large dataset arriving while max_concurrent_runs Spark runs are busy waits
  # (WAITING) for a free slot instead of failing StartJobRun with ConcurrentRunsExceededException, which
  # the feature Lambda could only retry a few times. Glue queues only jobs without retries (max_retries
  # = 0 above; https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html).
  job_run_queuing_enabled = true

  # Which code runs as the job's role cannot be replaced by a StartJobRun caller.
  non_overridable_arguments = {
    "--extra-py-files" = "s3://${aws_s3_object.artifact["glue_package"].bucket}/${aws_s3_object.artifact["glue_package"].key}"
    "--job-language"   = "python"
  }

  default_arguments = {
    "--bucket"               = aws_s3_bucket.data.id
    "--training_sample_rows" = tostring(var.training_sample_rows)
  }

  depends_on = [
    aws_iam_role_policy.glue_spark,
    aws_cloudwatch_log_group.glue, # the shared Glue groups (logs.tf), /aws-glue/jobs/* among them
  ]
}

################################################################################
# Role: raw files and the run's features prefix in; features and error reports out
################################################################################

resource "aws_iam_role" "glue_spark" {
  name               = local.role_names.glue_spark
  description        = "Runs the Glue job ${local.spark_features_job_name}: reads raw files, writes features and error reports."
  assume_role_policy = data.aws_iam_policy_document.assume_role["glue"].json
}

data "aws_iam_policy_document" "glue_spark" {
  statement {
    sid       = "ReadRawFilesAndCode"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.bucket_arn}/raw/*", "${local.bucket_arn}/raw.csv", "${local.bucket_arn}/${local.artifacts_prefix}*"]
  }

  # inputs.json, the staged validated rows and the parts written (read back for the sample).
  statement {
    sid       = "ReadAndWriteFeatures"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.bucket_arn}/features/*"]
  }

  # Spark's committer moves and replaces its part files; the staged rows are deleted at the end.
  statement {
    sid     = "DeleteOwnIntermediates"
    actions = ["s3:DeleteObject"]
    resources = [
      "${local.bucket_arn}/features/*/*/parts/*",
      "${local.bucket_arn}/features/*/*/validated/*",
    ]
  }

  statement {
    sid       = "WriteErrorReports"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/errors/*"]
  }

  # Spark lists the run's prefixes (parts/, validated/); 404 instead of 403 for a missing key.
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["features/*", "raw/*", "${local.artifacts_prefix}*"]
    }
  }

  # The job reads its own run (capacity, start time) into the manifest for the report's cost estimate.
  # The ARN is built from the name: the job resource depends on this policy.
  statement {
    sid       = "ReadOwnJobRuns"
    actions   = ["glue:GetJobRun"]
    resources = ["arn:${local.partition}:glue:${var.aws_region}:${local.account_id}:job/${local.spark_features_job_name}"]
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for name in local.glue_spark_log_group_names : "${local.log_group_arn_prefix}${name}:*"]
  }
}

resource "aws_iam_role_policy" "glue_spark" {
  name   = "least-privilege"
  role   = aws_iam_role.glue_spark.id
  policy = data.aws_iam_policy_document.glue_spark.json
}
