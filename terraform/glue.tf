# AWS Glue Python shell job, Python 3.9 with the preloaded `analytics` library set (pandas, numpy,
# scikit-learn, joblib, pyarrow, boto3, ...), so only our own package is shipped, as a wheel in
# --extra-py-files (Python shell installs .whl; .egg is gone in 3.9 and .zip is for Spark jobs).
# See https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html
resource "aws_glue_job" "model_training" {
  #checkov:skip=CKV_AWS_195:The job writes only to the data bucket, whose default encryption applies; no bookmarks or CloudWatch encryption to configure.

  name        = local.glue_job_name
  description = "Trains and evaluates the direction model for one features file; writes models/<dataset>/<run_id>/."
  role_arn    = aws_iam_role.glue.arn

  # Python shell 3.9 runs on Glue version 3.0 (1.0 is the retired Python 3.6 shell).
  glue_version = "3.0"
  # 1/16 DPU: the smallest (and cheapest) Python shell capacity; the alternative is 1.
  max_capacity = 0.0625
  timeout      = var.glue_timeout_minutes
  max_retries  = var.glue_max_retries

  command {
    name            = "pythonshell"
    python_version  = "3.9"
    script_location = "s3://${aws_s3_object.glue_script.bucket}/${aws_s3_object.glue_script.key}"
  }

  execution_property {
    max_concurrent_runs = var.glue_max_concurrent_runs
  }

  default_arguments = {
    # Python shell's own key, without the leading "--" of the other job arguments.
    "library-set"      = "analytics"
    "--extra-py-files" = "s3://${aws_s3_object.glue_package.bucket}/${aws_s3_object.glue_package.key}"
    "--bucket"         = aws_s3_bucket.data.id
  }

  depends_on = [
    aws_iam_role_policy.glue,
    aws_cloudwatch_log_group.glue,
  ]
}
