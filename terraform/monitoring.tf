# Monitoring: names, the functions watched, and the right to publish the pipeline's own metrics.
# Alerts (SNS, EventBridge) are in alerts.tf, alarms in alarms.tf, the dashboard in dashboard.tf.

locals {
  monitoring_prefix = "${var.project}-${var.environment}"
  alerts_topic_name = "${local.monitoring_prefix}-alerts"
  dashboard_name    = "${local.monitoring_prefix}-pipeline"
  # One namespace for every run metric (cripto_pipeline/run_metrics.py), `dataset` as the dimension.
  metrics_namespace = "${var.project}/${var.environment}"
  # Namespace of the values the metric filters read from the Lambda REPORT lines.
  lambda_report_namespace = "${var.project}/${var.environment}/lambda"

  # Every function watched the same way (errors, throttles, duration, memory).
  monitored_functions = {
    feature = {
      name           = aws_lambda_function.feature_engineering.function_name
      log_group      = aws_cloudwatch_log_group.feature_lambda.name
      timeout_ms     = var.feature_lambda_timeout_seconds * 1000
      memory_size_mb = var.feature_lambda_memory_mb
    }
    trigger = {
      name           = aws_lambda_function.glue_trigger.function_name
      log_group      = aws_cloudwatch_log_group.trigger_lambda.name
      timeout_ms     = var.trigger_lambda_timeout_seconds * 1000
      memory_size_mb = var.trigger_lambda_memory_mb
    }
  }
}

# PutMetricData has no resource ARN; the namespace condition limits it to the pipeline's namespace.
data "aws_iam_policy_document" "put_run_metrics" {
  statement {
    sid       = "PutRunMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }
}

resource "aws_iam_role_policy" "feature_lambda_metrics" {
  name   = "put-run-metrics"
  role   = aws_iam_role.feature_lambda.id
  policy = data.aws_iam_policy_document.put_run_metrics.json
}

resource "aws_iam_role_policy" "glue_metrics" {
  name   = "put-run-metrics"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.put_run_metrics.json
}
