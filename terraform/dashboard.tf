################################################################################
# The pipeline's dashboard. `make dashboard` renders the same widgets from GetMetricData into a local
# HTML/PNG page (cripto_ops.dashboard), so every widget is a "metric" widget with plain metric rows.
################################################################################

locals {
  dashboard_period = var.dashboard_period_seconds

  # One line per function and statistic: duration against the timeout.
  duration_widgets = [for key, fn in local.monitored_functions : {
    type   = "metric"
    width  = 12
    height = 6
    properties = {
      title       = "${fn.name}: duration (ms) vs timeout"
      region      = var.aws_region
      view        = "timeSeries"
      period      = local.dashboard_period
      metrics     = [for stat in ["p50", "p95", "Maximum"] : ["AWS/Lambda", "Duration", "FunctionName", fn.name, { stat = stat, label = stat }]]
      annotations = { horizontal = [{ label = "timeout", value = fn.timeout_ms }] }
    }
  }]

  error_widgets = [for key, fn in local.monitored_functions : {
    type   = "metric"
    width  = 12
    height = 6
    properties = {
      title  = "${fn.name}: invocations, errors, throttles"
      region = var.aws_region
      view   = "timeSeries"
      period = local.dashboard_period
      stat   = "Sum"
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", fn.name, { id = "inv_${key}" }],
        ["AWS/Lambda", "Errors", "FunctionName", fn.name, { id = "err_${key}" }],
        ["AWS/Lambda", "Throttles", "FunctionName", fn.name],
        [{ expression = "100 * err_${key} / inv_${key}", label = "error rate (%)", id = "rate_${key}" }],
      ]
    }
  }]

  memory_widgets = [for key, fn in local.monitored_functions : {
    type   = "metric"
    width  = 12
    height = 6
    properties = {
      title       = "${fn.name}: max memory used (MB) vs memory size"
      region      = var.aws_region
      view        = "timeSeries"
      period      = local.dashboard_period
      stat        = "Maximum"
      metrics     = [[local.lambda_report_namespace, "${fn.name}-MaxMemoryUsedMB"]]
      annotations = { horizontal = [{ label = "memory size", value = fn.memory_size_mb }] }
    }
  }]

  pipeline_widgets = [
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Failed-events queue: messages waiting"
        region  = var.aws_region
        view    = "timeSeries"
        period  = local.dashboard_period
        stat    = "Maximum"
        metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.failed_events.name]]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Rows processed per run"
        region  = var.aws_region
        view    = "timeSeries"
        period  = local.dashboard_period
        stat    = "Sum"
        metrics = [for d in var.monitored_datasets : [local.metrics_namespace, "Rows", "dataset", d]]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Stage seconds per run (features, training)"
        region  = var.aws_region
        view    = "timeSeries"
        period  = local.dashboard_period
        stat    = "Maximum"
        metrics = concat([for d in var.monitored_datasets : [[local.metrics_namespace, "FeatureSeconds", "dataset", d], [local.metrics_namespace, "TrainingSeconds", "dataset", d]]]...)
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Model: walk-forward accuracy, balanced accuracy, margin over best baseline"
        region = var.aws_region
        view   = "timeSeries"
        period = local.dashboard_period
        stat   = "Average"
        # concat(...), not flatten(): each row must stay a list of its own.
        metrics = concat([for d in var.monitored_datasets : [
          [local.metrics_namespace, "ModelAccuracy", "dataset", d],
          [local.metrics_namespace, "ModelBalancedAccuracy", "dataset", d],
          [local.metrics_namespace, "MarginOverBestBaseline", "dataset", d],
          [local.metrics_namespace, "BeatsBaselines", "dataset", d],
        ]]...)
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = concat(local.duration_widgets, local.error_widgets, local.memory_widgets, local.pipeline_widgets)
  })
}
