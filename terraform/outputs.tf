output "bucket_name" {
  description = "Name of the data bucket: upload raw.csv or raw/<dataset>.csv here."
  value       = aws_s3_bucket.data.id
}

output "bucket_arn" {
  description = "ARN of the data bucket."
  value       = aws_s3_bucket.data.arn
}

output "feature_lambda_name" {
  description = "Name of the feature-engineering Lambda function (triggered by raw uploads)."
  value       = aws_lambda_function.lambda["feature"].function_name
}

output "feature_lambda_arn" {
  description = "ARN of the feature-engineering Lambda function."
  value       = aws_lambda_function.lambda["feature"].arn
}

output "feature_lambda_log_group_name" {
  description = "CloudWatch log group of the feature-engineering function."
  value       = aws_cloudwatch_log_group.lambda["feature"].name
}

output "glue_runs_lambda_name" {
  description = "Name of the Lambda function that counts finished training runs by state and records their duration."
  value       = aws_lambda_function.lambda["glue-runs"].function_name
}

output "glue_runs_rule_name" {
  description = "Name of the EventBridge rule that sends every finished training run to the glue-run-metrics function."
  value       = aws_cloudwatch_event_rule.glue_run_ended.name
}

output "trigger_lambda_name" {
  description = "Name of the Lambda function that starts the training job for new feature files."
  value       = aws_lambda_function.lambda["trigger"].function_name
}

output "trigger_lambda_arn" {
  description = "ARN of the Glue-trigger Lambda function."
  value       = aws_lambda_function.lambda["trigger"].arn
}

output "trigger_lambda_log_group_name" {
  description = "CloudWatch log group of the Glue-trigger function."
  value       = aws_cloudwatch_log_group.lambda["trigger"].name
}

output "layer_version_arn" {
  description = "Version ARN of the data_science Lambda layer used by the feature-engineering function."
  value       = aws_lambda_layer_version.data_science.arn
}

output "glue_job_name" {
  description = "Name of the Glue Python shell training job."
  value       = aws_glue_job.model_training.name
}

output "glue_job_arn" {
  description = "ARN of the Glue Python shell training job."
  value       = aws_glue_job.model_training.arn
}

output "glue_log_group_names" {
  description = "CloudWatch log groups of Glue Python shell runs (stream = job run id): [output, error]."
  value       = local.glue_log_group_names
}

output "failed_events_queue_url" {
  description = "SQS queue receiving S3 events that failed every Lambda retry (with the error)."
  value       = aws_sqs_queue.failed_events.url
}

output "failed_events_queue_arn" {
  description = "ARN of the failed-events SQS queue."
  value       = aws_sqs_queue.failed_events.arn
}

output "aws_region" {
  description = "Region the stack is deployed in; tools create their AWS clients there."
  value       = var.aws_region
}

output "alerts_topic_arn" {
  description = "ARN of the SNS topic receiving every alarm and Glue-failure alert; subscribe to it."
  value       = aws_sns_topic.alerts.arn
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the pipeline's run metrics (dimension: dataset)."
  value       = local.metrics_namespace
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (`make dashboard` renders it locally)."
  value       = aws_cloudwatch_dashboard.pipeline.dashboard_name
}

output "alarm_name_prefix" {
  description = "Prefix of every alarm of this stack (`make status` lists their states)."
  value       = "${local.monitoring_prefix}-"
}

output "glue_failure_rule_name" {
  description = "EventBridge rule sending failed/timed-out/stopped training runs to the alerts topic."
  value       = aws_cloudwatch_event_rule.glue_run_failed.name
}

output "spark_features_job_name" {
  description = "Name of the Glue 5.0 Spark feature job (large datasets): started with --bucket, --dataset, --run_id."
  value       = aws_glue_job.spark_features.name
}

output "glue_spark_log_group_names" {
  description = "CloudWatch log groups of Glue Spark runs (stream = job run id): [output, error]."
  value       = local.glue_spark_log_group_names
}
