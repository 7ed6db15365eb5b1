# AWS Glue Python shell job, Python 3.9 with the preloaded `analytics` library set (pandas, numpy,
# scikit-learn, joblib, pyarrow, boto3, ...), so only our own package is shipped, in --extra-py-files,
# plus matplotlib for the run's report.html through --additional-python-modules.
# See https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html
locals {
  # 1/16 DPU: the smallest (and cheapest) Python shell capacity; the alternative is 1.
  glue_max_capacity = 0.0625

  # matplotlib is not in the analytics set. The list is a lock: every dependency that the analytics
  # set lacks, pinned, installed with --no-deps so pip can never replace the preinstalled numpy 1.22.3
  # (left to itself it picks contourpy 1.3 -> numpy 2.x, which breaks the set's pandas and scikit-learn).
  # matplotlib 3.8.4 is the last release for numpy < 1.23; contourpy 1.2.1 the last for numpy 1.20+.
  # numpy, python-dateutil, packaging and six come from the analytics set.
  glue_report_modules = join(",", [
    "matplotlib==3.8.4",
    "contourpy==1.2.1",
    "cycler==0.12.1",
    "fonttools==4.60.2",
    "kiwisolver==1.4.7",
    "pillow==11.3.0",
    "pyparsing==3.3.3",
    "importlib-resources==6.5.2",
    "zipp==3.23.1",
  ])
}

resource "aws_glue_job" "model_training" {
  #checkov:skip=CKV_AWS_195:The job writes only to the data bucket, whose default encryption applies; no bookmarks or CloudWatch encryption to configure.

  name        = local.glue_job_name
  description = "Trains and evaluates the direction model for one features file; writes models/<dataset>/<run_id>/."
  role_arn    = aws_iam_role.glue.arn

  # Python shell 3.9 runs on Glue version 3.0 (1.0 is the retired Python 3.6 shell).
  glue_version = "3.0"
  max_capacity = local.glue_max_capacity
  timeout      = var.glue_timeout_minutes
  max_retries  = var.glue_max_retries

  command {
    name            = "pythonshell"
    python_version  = "3.9"
    script_location = "s3://${aws_s3_object.artifact["glue_script"].bucket}/${aws_s3_object.artifact["glue_script"].key}"
  }

  execution_property {
    max_concurrent_runs = var.glue_max_concurrent_runs
  }

  # Job run queuing: a run above max_concurrent_runs waits (WAITING) and starts when a slot frees,
  # instead of failing with ConcurrentRunsExceededException; the trigger's backoff is then only the
  # fallback. Python shell jobs queue like standard Spark jobs, but only jobs without retries do
  # (https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html).
  job_run_queuing_enabled = var.glue_max_retries == 0

  # Arguments that decide which code runs as the job's role cannot be replaced by a StartJobRun
  # caller (Glue refuses a run that sets one): glue:StartJobRun must not mean "run any code".
  non_overridable_arguments = {
    # Python shell's own key, without the leading "--" of the other job arguments.
    "library-set"      = "analytics"
    "--extra-py-files" = "s3://${aws_s3_object.artifact["glue_package"].bucket}/${aws_s3_object.artifact["glue_package"].key}"

    "--additional-python-modules"       = local.glue_report_modules
    "--python-modules-installer-option" = "--no-deps"
  }

  default_arguments = {
    "--bucket" = aws_s3_bucket.data.id

    # For the report's cost estimate (the job cannot read its own capacity without glue:GetJob).
    "--glue_dpu"                 = tostring(local.glue_max_capacity)
    "--feature_lambda_memory_mb" = tostring(var.feature_lambda_memory_mb)
    "--trigger_lambda_memory_mb" = tostring(var.trigger_lambda_memory_mb)
    # Model quality and training time go to CloudWatch here; see monitoring.tf.
    "--metrics_namespace" = local.metrics_namespace
  }

  depends_on = [
    aws_iam_role_policy.glue,
    aws_cloudwatch_log_group.glue,
  ]
}
