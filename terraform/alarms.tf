################################################################################
# Alarms: each sends its ALARM transitions (and, but for the informational model alarm, its OK
# transitions) to the alerts topic (alerts.tf). README "Monitoring" says what each one means and
# what to do. Thresholds are variables (variables.tf, "Monitoring").
################################################################################

# Lambda publishes no memory metric; its REPORT line carries "Max Memory Used: <n> MB" (token 18).
resource "aws_cloudwatch_log_metric_filter" "lambda_max_memory_used" {
  for_each = local.monitored_functions

  name           = "${local.monitoring_prefix}-${each.key}-max-memory-used"
  log_group_name = each.value.log_group
  pattern        = "[report=REPORT, request_id_label, request_id, duration_label, duration, duration_unit, billed_label1, billed_label2, billed, billed_unit, size_label1, size_label2, memory_size, size_unit, max_label1, max_label2, max_label3, max_memory_used, ...]"

  # A filter's dimensions can only be fields of the line, so the function is in the metric's name.
  metric_transformation {
    name      = "${each.value.name}-MaxMemoryUsedMB"
    namespace = local.lambda_report_namespace
    value     = "$max_memory_used"
    unit      = "Megabytes"
  }
}

locals {
  alarm_actions = [aws_sns_topic.alerts.arn]

  # Alarms that fire when one value goes above its threshold, by name: <monitoring_prefix>-<key>.
  # Four per function, then the failed-events queue.
  threshold_alarms = merge(local.function_alarms, {
    "failed-events" = {
      description = "S3 events failed every Lambda retry and wait in ${aws_sqs_queue.failed_events.name} with their error: read them, fix the cause, upload again."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.failed_events.name }
      statistic   = "Maximum"
      threshold   = var.failed_events_visible_threshold
    }
  })

  # Per function: three of AWS's own Lambda metrics (namespace AWS/Lambda, dimension FunctionName
  # unless an alarm says otherwise), and the memory the metric filter above reads from its logs.
  function_alarms = merge([for key, fn in local.monitored_functions : {
    for suffix, alarm in {
      errors = {
        description = "${fn.name} raised errors (async invocations are retried, then land in the failed-events queue). Read `make logs`."
        metric      = "Errors"
        statistic   = "Sum"
        threshold   = var.lambda_errors_threshold
      }
      throttles = {
        description = "${fn.name} was throttled: the account's concurrency is exhausted; events wait and may age out into the failed-events queue."
        metric      = "Throttles"
        statistic   = "Sum"
        threshold   = var.lambda_throttles_threshold
      }
      duration-p95 = {
        description = "${fn.name}: p95 duration above ${var.lambda_duration_timeout_share * 100}% of its ${fn.timeout_ms} ms timeout; raise the timeout or memory before runs time out."
        metric      = "Duration"
        statistic   = "p95"
        threshold   = fn.timeout_ms * var.lambda_duration_timeout_share
      }
      memory = {
        description = "${fn.name} used more than ${var.lambda_memory_used_share * 100}% of its ${fn.memory_size_mb} MB; raise its memory before it runs out."
        namespace   = local.lambda_report_namespace
        metric      = aws_cloudwatch_log_metric_filter.lambda_max_memory_used[key].metric_transformation[0].name
        dimensions  = null
        statistic   = "Maximum"
        threshold   = fn.memory_size_mb * var.lambda_memory_used_share
      }
    } : "${key}-${suffix}" => merge({ namespace = "AWS/Lambda", dimensions = { FunctionName = fn.name } }, alarm)
  }]...)
}

resource "aws_cloudwatch_metric_alarm" "above_threshold" {
  for_each = local.threshold_alarms

  alarm_name        = "${local.monitoring_prefix}-${each.key}"
  alarm_description = each.value.description
  namespace         = each.value.namespace
  metric_name       = each.value.metric
  dimensions        = each.value.dimensions
  # CloudWatch takes percentiles (p95) as ExtendedStatistic, Sum/Maximum/... as Statistic.
  statistic           = startswith(each.value.statistic, "p") ? null : each.value.statistic
  extended_statistic  = startswith(each.value.statistic, "p") ? each.value.statistic : null
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Informational, off by default: daily crypto direction is hard, and a model at baseline level is
# the common case, not an outage (see README "Model quality").
resource "aws_cloudwatch_metric_alarm" "model_below_baselines" {
  for_each = var.alarm_on_model_below_baselines ? toset(var.monitored_datasets) : toset([])

  alarm_name          = "${local.monitoring_prefix}-${each.key}-model-below-baselines"
  alarm_description   = "A training run of dataset ${each.key}: the selected model did not beat every baseline (BeatsBaselines = 0); read its report.html before using it."
  namespace           = local.metrics_namespace
  metric_name         = "BeatsBaselines"
  dimensions          = { dataset = each.key }
  statistic           = "Minimum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}
