################################################################################
# The pipeline's dashboard. `make dashboard` renders the same widgets from GetMetricData into a local
# HTML/PNG page (cripto_ops.dashboard), so every widget is a "metric" widget with plain metric rows.
################################################################################

locals {
  # Every graph: a half-width time series over the dashboard's period, in the stack's region.
  graph_defaults = {
    region = var.aws_region
    view   = "timeSeries"
    period = var.dashboard_period_seconds
  }

  # Each function's duration against its timeout, then invocations/errors/throttles, then memory.
  function_graphs = concat(
    [for key, fn in local.monitored_functions : {
      title       = "${fn.name}: duration (ms) vs timeout"
      metrics     = [for stat in ["p50", "p95", "Maximum"] : ["AWS/Lambda", "Duration", "FunctionName", fn.name, { stat = stat, label = stat }]]
      annotations = { horizontal = [{ label = "timeout", value = fn.timeout_ms }] }
    }],
    [for key, fn in local.monitored_functions : {
      title = "${fn.name}: invocations, errors, throttles"
      stat  = "Sum"
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", fn.name, { id = "inv_${fn.metric_id}" }],
        ["AWS/Lambda", "Errors", "FunctionName", fn.name, { id = "err_${fn.metric_id}" }],
        ["AWS/Lambda", "Throttles", "FunctionName", fn.name],
        [{ expression = "100 * err_${fn.metric_id} / inv_${fn.metric_id}", label = "error rate (%)", id = "rate_${fn.metric_id}" }],
      ]
    }],
    [for key, fn in local.monitored_functions : {
      title       = "${fn.name}: max memory used (MB) vs memory size"
      stat        = "Maximum"
      metrics     = [[local.lambda_report_namespace, "${fn.name}-MaxMemoryUsedMB"]]
      annotations = { horizontal = [{ label = "memory size", value = fn.memory_size_mb }] }
    }],
  )

  pipeline_graphs = [
    {
      title   = "Failed-events queue: messages waiting"
      stat    = "Maximum"
      metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.failed_events.name]]
    },
    {
      title   = "Rows processed per run"
      stat    = "Sum"
      metrics = [for d in var.monitored_datasets : [local.metrics_namespace, "Rows", "dataset", d]]
    },
    {
      title   = "Stage seconds per run (features, training)"
      stat    = "Maximum"
      metrics = concat([for d in var.monitored_datasets : [[local.metrics_namespace, "FeatureSeconds", "dataset", d], [local.metrics_namespace, "TrainingSeconds", "dataset", d]]]...)
    },
    {
      title = "Glue training runs by final state (runs)"
      stat  = "Sum"
      metrics = [for state in local.glue_final_states : [
        local.metrics_namespace, "GlueRuns", "JobName", aws_glue_job.model_training.name, "State", state, { label = state }
      ]]
    },
    {
      title       = "Glue training run duration (s) vs timeout"
      stat        = "Maximum"
      metrics     = [[local.metrics_namespace, "GlueRunSeconds", "JobName", aws_glue_job.model_training.name, { label = "ExecutionTime" }]]
      annotations = { horizontal = [{ label = "timeout", value = var.glue_timeout_minutes * 60 }] }
    },
    {
      title = "Model: walk-forward accuracy, balanced accuracy, margin over best baseline"
      stat  = "Average"
      # concat(...), not flatten(): each row must stay a list of its own.
      metrics = concat([for d in var.monitored_datasets : [
        [local.metrics_namespace, "ModelAccuracy", "dataset", d],
        [local.metrics_namespace, "ModelBalancedAccuracy", "dataset", d],
        [local.metrics_namespace, "MarginOverBestBaseline", "dataset", d],
        [local.metrics_namespace, "BeatsBaselines", "dataset", d],
      ]]...)
    },
  ]
}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = [for graph in concat(local.function_graphs, local.pipeline_graphs) : {
      type       = "metric"
      width      = 12
      height     = 6
      properties = merge(local.graph_defaults, graph)
    }]
  })
}
