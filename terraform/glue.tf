# AWS Glue Python shell job, Python 3.9 with the preloaded `analytics` library set (pandas, numpy,
# scikit-learn, joblib, pyarrow, boto3, ...), so only our own package is shipped, in --extra-py-files,
# plus matplotlib for the run's report.html through --additional-python-modules (wheels in S3).
# See https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html
locals {
  # 1/16 DPU (1 GB): the smallest (and cheapest) Python shell capacity; the alternative is 1 (16 GB).
  # The trigger starts a run whose features file is above var.glue_large_run_features_bytes at
  # var.glue_large_run_max_capacity instead (StartJobRun's per-run MaxCapacity).
  glue_max_capacity = 0.0625

  # matplotlib is not in the analytics set: its wheels (the lock requirements/glue-report-modules.txt,
  # downloaded by scripts/build_artifacts.py) are uploaded by this stack (s3.tf) and installed from
  # S3, so a run needs no package index. --no-deps: the lock lists every dependency the analytics set
  # lacks, and pip must never replace the set's own numpy. No wheels built: no modules, and the job
  # trains and skips its report.
  glue_report_modules = join(",", [
    for name in sort(tolist(local.glue_module_wheels)) :
    "s3://${aws_s3_object.glue_module[name].bucket}/${aws_s3_object.glue_module[name].key}"
  ])
  glue_report_modules_installer_option = "--no-deps"
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
  non_overridable_arguments = merge(
    {
      # Python shell's own key, without the leading "--" of the other job arguments.
      "library-set"      = "analytics"
      "--extra-py-files" = "s3://${aws_s3_object.artifact["glue_package"].bucket}/${aws_s3_object.artifact["glue_package"].key}"
    },
    # AWS Glue takes comma-separated S3 paths of wheels here; left out when no wheels were built.
    { for key, value in {
      "--additional-python-modules"       = local.glue_report_modules
      "--python-modules-installer-option" = local.glue_report_modules_installer_option
    } : key => value if local.glue_report_modules != "" },
  )

  default_arguments = {
    "--bucket" = aws_s3_bucket.data.id

    # For the report's cost estimate (the job cannot read its own capacity without glue:GetJob); the
    # trigger overrides it with the run's own capacity when it starts a run at another one.
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
