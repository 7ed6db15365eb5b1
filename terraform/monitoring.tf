# Monitoring: the functions watched, and the right to publish the pipeline's own metrics.
# Names are in locals.tf; alerts (SNS, EventBridge) in alerts.tf, alarms in alarms.tf, the
# dashboard in dashboard.tf.

locals {
  # Every function watched the same way (errors, throttles, duration, memory).
  monitored_functions = {
    # Keys from the static map (see the invoke configs in lambda.tf), values from the resources.
    for key in keys(local.lambdas) : key => {
      name           = aws_lambda_function.lambda[key].function_name
      log_group      = aws_cloudwatch_log_group.lambda[key].name
      timeout_ms     = local.lambdas[key].timeout_s * 1000
      memory_size_mb = local.lambdas[key].memory_mb
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

# The workloads that publish run metrics: the feature function and the training job.
resource "aws_iam_role_policy" "put_run_metrics" {
  for_each = {
    feature = aws_iam_role.lambda["feature"].id
    glue    = aws_iam_role.glue.id
  }

  name   = "put-run-metrics"
  role   = each.value
  policy = data.aws_iam_policy_document.put_run_metrics.json
}
