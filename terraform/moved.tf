# Addresses before issue 15 (one resource per function, per alarm, per artifact) -> the for_each
# definitions that replaced them, so a stack deployed before is updated in place: nothing is
# destroyed and created again. Safe to delete once every deployed stack has been applied with them.

moved {
  from = aws_lambda_function.feature_engineering
  to   = aws_lambda_function.lambda["feature"]
}

moved {
  from = aws_lambda_function_event_invoke_config.feature_engineering
  to   = aws_lambda_function_event_invoke_config.lambda["feature"]
}

moved {
  from = aws_lambda_function.glue_trigger
  to   = aws_lambda_function.lambda["trigger"]
}

moved {
  from = aws_lambda_function_event_invoke_config.glue_trigger
  to   = aws_lambda_function_event_invoke_config.lambda["trigger"]
}

moved {
  from = aws_iam_role.feature_lambda
  to   = aws_iam_role.lambda["feature"]
}

moved {
  from = aws_iam_role_policy.feature_lambda
  to   = aws_iam_role_policy.lambda["feature"]
}

moved {
  from = aws_cloudwatch_log_group.feature_lambda
  to   = aws_cloudwatch_log_group.lambda["feature"]
}

moved {
  from = aws_lambda_permission.s3_invokes_feature_lambda
  to   = aws_lambda_permission.s3_invokes_lambda["feature"]
}

moved {
  from = aws_iam_role.trigger_lambda
  to   = aws_iam_role.lambda["trigger"]
}

moved {
  from = aws_iam_role_policy.trigger_lambda
  to   = aws_iam_role_policy.lambda["trigger"]
}

moved {
  from = aws_cloudwatch_log_group.trigger_lambda
  to   = aws_cloudwatch_log_group.lambda["trigger"]
}

moved {
  from = aws_lambda_permission.s3_invokes_trigger_lambda
  to   = aws_lambda_permission.s3_invokes_lambda["trigger"]
}

moved {
  from = aws_iam_role_policy.feature_lambda_metrics
  to   = aws_iam_role_policy.put_run_metrics["feature"]
}

moved {
  from = aws_iam_role_policy.glue_metrics
  to   = aws_iam_role_policy.put_run_metrics["glue"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors["feature"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["feature-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_throttles["feature"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["feature-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_duration["feature"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["feature-duration-p95"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_memory["feature"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["feature-memory"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors["trigger"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["trigger-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_throttles["trigger"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["trigger-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_duration["trigger"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["trigger-duration-p95"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_memory["trigger"]
  to   = aws_cloudwatch_metric_alarm.above_threshold["trigger-memory"]
}

moved {
  from = aws_cloudwatch_metric_alarm.failed_events
  to   = aws_cloudwatch_metric_alarm.above_threshold["failed-events"]
}

moved {
  from = aws_s3_object.layer
  to   = aws_s3_object.artifact["layer"]
}

moved {
  from = aws_s3_object.glue_script
  to   = aws_s3_object.artifact["glue_script"]
}

moved {
  from = aws_s3_object.glue_package
  to   = aws_s3_object.artifact["glue_package"]
}
