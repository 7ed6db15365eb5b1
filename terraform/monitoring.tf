# Monitoring: the functions watched, and the right to publish the pipeline's own metrics.
# Names are in locals.tf; alerts (SNS, EventBridge) in alerts.tf, alarms in alarms.tf, the
# dashboard in dashboard.tf.

locals {
  # The states a Glue run ends in (cripto_pipeline.glue_runs.FINAL_STATES): one GlueRuns line each.
  glue_final_states = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"]

  # Every function watched the same way (errors, throttles, duration, memory).
  monitored_functions = {
    # Keys from the static map (see the invoke configs in lambda.tf), values from the resources.
    for key in keys(local.lambdas) : key => {
      name = aws_lambda_function.lambda[key].function_name
      # GetMetricData ids allow letters, digits and "_" only: the "glue-runs" key becomes glue_runs.
      metric_id      = replace(key, "-", "_")
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

# The workloads that publish run metrics: the feature function, the training job and the
# glue-run-metrics function.
resource "aws_iam_role_policy" "put_run_metrics" {
  for_each = {
    feature     = aws_iam_role.lambda["feature"].id
    glue        = aws_iam_role.glue.id
    "glue-runs" = aws_iam_role.lambda["glue-runs"].id
  }

  name   = "put-run-metrics"
  role   = each.value
  policy = data.aws_iam_policy_document.put_run_metrics.json
}

################################################################################
# Glue runs by state and duration: every finished training run -> the glue-run-metrics function
################################################################################

# AWS publishes no job metrics for Python shell jobs, and a run that crashes, times out or is
# stopped cannot report itself; Glue's state-change event reaches EventBridge for all of them.
resource "aws_cloudwatch_event_rule" "glue_run_ended" {
  name        = local.glue_runs_rule_name
  description = "Every finished run of ${aws_glue_job.model_training.name}, for the GlueRuns and GlueRunSeconds metrics."
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Job State Change"]
    detail = {
      jobName = [aws_glue_job.model_training.name]
      state   = local.glue_final_states
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_run_ended" {
  rule = aws_cloudwatch_event_rule.glue_run_ended.name
  arn  = aws_lambda_function.lambda["glue-runs"].arn

  depends_on = [aws_lambda_permission.glue_run_ended]
}

resource "aws_lambda_permission" "glue_run_ended" {
  statement_id  = "AllowGlueRunEndedRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.lambda["glue-runs"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.glue_run_ended.arn
}
