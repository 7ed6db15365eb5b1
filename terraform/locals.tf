locals {
  # Resource names are part of the contract with scripts, tests and the CLI, which read them back
  # from `terraform output` instead of hard-coding them. Every name carries project and environment:
  # workloads are <project>-<component>-<environment> (e.g. cripto-ml-pipeline-feature-engineering-dev),
  # monitoring names <project>-<environment>-<what> (monitoring_prefix below), so several environments
  # of the stack live side by side in one account and region. AWS chooses the log group names:
  # /aws/lambda/<function name>, and the two fixed Glue Python shell groups.
  name_suffix         = "-${var.environment}"
  feature_lambda_name = "${var.project}-feature-engineering${local.name_suffix}"
  trigger_lambda_name = "${var.project}-glue-trigger${local.name_suffix}"
  glue_job_name       = "${var.project}-model-training${local.name_suffix}"
  layer_name          = "${var.project}-data-science${local.name_suffix}"
  failed_events_queue = "${var.project}-failed-events${local.name_suffix}"
  # Counts finished Glue runs by state and records their duration (monitoring.tf).
  glue_runs_lambda_name = "${var.project}-glue-run-metrics${local.name_suffix}"

  # The Glue Spark feature job, for datasets too large for the feature Lambda (issue 12).
  spark_features_job_name = "${var.project}-spark-features${local.name_suffix}"

  # The functions, by the key every per-function resource and alarm uses (alarm names are
  # <monitoring_prefix>-<key>-errors, ...).
  lambda_names = {
    feature     = local.feature_lambda_name
    trigger     = local.trigger_lambda_name
    "glue-runs" = local.glue_runs_lambda_name
  }
  lambda_log_group_names = { for key, name in local.lambda_names : key => "/aws/lambda/${name}" }

  # One role per workload, named after it.
  role_names = merge(
    { for key, name in local.lambda_names : key => "${name}-role" },
    { glue = "${local.glue_job_name}-role", glue_spark = "${local.spark_features_job_name}-role" },
  )

  # Monitoring: alarm names (and the Glue-failure rule) start with this prefix; the alerts topic's
  # policy lets only those alarms publish.
  monitoring_prefix      = "${var.project}-${var.environment}"
  alerts_topic_name      = "${local.monitoring_prefix}-alerts"
  dashboard_name         = "${local.monitoring_prefix}-pipeline"
  glue_failure_rule_name = "${local.monitoring_prefix}-glue-run-failed"
  glue_runs_rule_name    = "${local.monitoring_prefix}-glue-run-ended"
  # One namespace for every run metric (cripto_pipeline/run_metrics.py), `dataset` as the dimension.
  metrics_namespace = "${var.project}/${var.environment}"
  # Namespace of the values the metric filters read from the Lambda REPORT lines (alarms.tf).
  lambda_report_namespace = "${var.project}/${var.environment}/lambda"

  # Globally unique on AWS: unless set, the bucket name carries the account id.
  bucket_name = coalesce(var.s3_bucket_name, "${var.project}${local.name_suffix}-${data.aws_caller_identity.current.account_id}")

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # artifacts_dir is relative to this directory unless absolute; keeping relative paths relative
  # keeps `filename` in the state identical on every machine.
  artifacts_dir = startswith(var.artifacts_dir, "/") ? var.artifacts_dir : "${path.module}/${var.artifacts_dir}"

  artifacts = {
    feature_lambda_zip = "${local.artifacts_dir}/lambda/feature_engineering.zip"
    trigger_lambda_zip = "${local.artifacts_dir}/lambda/glue_trigger.zip"
    layer_zip          = "${local.artifacts_dir}/layers/data_science.zip"
    glue_script        = "${local.artifacts_dir}/glue/model_training.py"
    spark_script       = "${local.artifacts_dir}/glue/spark_features_job.py"
    # The wheel's name carries the package version, so it is looked up rather than spelled out.
    glue_package = "${local.artifacts_dir}/glue/${coalesce(one(fileset("${local.artifacts_dir}/glue", "*.whl")), "<no wheel: run scripts/build_artifacts.py>")}"
    # The function behind the "Glue runs by state and duration" widget.
    glue_runs_lambda_zip = "${local.artifacts_dir}/lambda/glue_run_metrics.zip"
  }

  # Everything Terraform uploads lives under this prefix; the pipeline never writes there.
  artifacts_prefix = "artifacts/"

  # The Glue job's report-module wheels (scripts/glue_module_wheels.py writes them; s3.tf uploads them).
  glue_module_wheels_dir = "${local.artifacts_dir}/glue-modules"
  glue_module_wheels     = fileset(local.glue_module_wheels_dir, "*.whl")
  glue_modules_prefix    = "${local.artifacts_prefix}glue-modules/"

  glue_log_group_names = ["/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error"]
  # Glue Spark jobs' driver logs (stream = job run id), shared by every Spark job of the account.
  glue_spark_log_group_names = ["/aws-glue/jobs/output", "/aws-glue/jobs/error"]
}
