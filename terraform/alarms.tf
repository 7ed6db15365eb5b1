################################################################################
# Alarms: each sends ALARM and OK transitions to the alerts topic (alerts.tf). README "Monitoring"
# says what each one means and what to do. Thresholds are variables (variables.tf, "Monitoring").
################################################################################

locals {
  alarm_actions = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = local.monitored_functions

  alarm_name          = "${local.monitoring_prefix}-${each.key}-errors"
  alarm_description   = "${each.value.name} raised errors (async invocations are retried, then land in the failed-events queue). Read `make logs`."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.lambda_errors_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = local.monitored_functions

  alarm_name          = "${local.monitoring_prefix}-${each.key}-throttles"
  alarm_description   = "${each.value.name} was throttled: the account's concurrency is exhausted; events wait and may age out into the failed-events queue."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value.name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.lambda_throttles_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "lambda_duration" {
  for_each = local.monitored_functions

  alarm_name          = "${local.monitoring_prefix}-${each.key}-duration-p95"
  alarm_description   = "${each.value.name}: p95 duration above ${var.lambda_duration_timeout_share * 100}% of its ${each.value.timeout_ms} ms timeout; raise the timeout or memory before runs time out."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = each.value.name }
  extended_statistic  = "p95"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.timeout_ms * var.lambda_duration_timeout_share
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

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

resource "aws_cloudwatch_metric_alarm" "lambda_memory" {
  for_each = local.monitored_functions

  alarm_name          = "${local.monitoring_prefix}-${each.key}-memory"
  alarm_description   = "${each.value.name} used more than ${var.lambda_memory_used_share * 100}% of its ${each.value.memory_size_mb} MB; raise its memory before it runs out."
  namespace           = local.lambda_report_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.lambda_max_memory_used[each.key].metric_transformation[0].name
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.memory_size_mb * var.lambda_memory_used_share
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "failed_events" {
  alarm_name          = "${local.monitoring_prefix}-failed-events"
  alarm_description   = "S3 events failed every Lambda retry and wait in ${aws_sqs_queue.failed_events.name} with their error: read them, fix the cause, upload again."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failed_events.name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.failed_events_visible_threshold
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
