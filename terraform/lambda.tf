################################################################################
# Shared layer: numpy + pandas + pyarrow for python3.12 (manylinux2014_x86_64 wheels)
################################################################################

resource "aws_lambda_layer_version" "data_science" {
  layer_name               = local.layer_name
  description              = "numpy, pandas and pyarrow (requirements/lambda-layer.txt) for python3.12 on x86_64."
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = ["x86_64"]

  s3_bucket         = aws_s3_object.layer.bucket
  s3_key            = aws_s3_object.layer.key
  s3_object_version = aws_s3_object.layer.version_id
  # A new layer version only when the zip's bytes change (the build is reproducible).
  source_code_hash = filebase64sha256(local.artifacts.layer_zip)
}

################################################################################
# cripto-feature-engineering: raw CSV -> validated features (Parquet) or an error report
################################################################################

resource "aws_lambda_function" "feature_engineering" {
  # Accepted checkov findings (tests/static/test_security.py), with the reason:
  #checkov:skip=CKV_AWS_115:Reserved concurrency fails on accounts at the default quota of 10; Glue's max_concurrent_runs bounds the work downstream.
  #checkov:skip=CKV_AWS_116:Failed async events go to the on-failure destination (aws_lambda_function_event_invoke_config), which also records the error.
  #checkov:skip=CKV_AWS_117:Talks only to S3, Glue and CloudWatch Logs over AWS endpoints; a VPC would need NAT or endpoints for no gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (log level, size limit, job name); Lambda encrypts it at rest with an AWS key.
  #checkov:skip=CKV_AWS_272:Code signing needs AWS Signer profiles; artifacts are built reproducibly and their hashes pinned in the state.
  #checkov:skip=CKV_AWS_50:No X-Ray: structured logs carry the run id through the pipeline.

  function_name = local.feature_lambda_name
  description   = "Validates raw price uploads and writes feature Parquet files (or error reports)."
  role          = aws_iam_role.feature_lambda.arn

  runtime       = "python3.12"
  architectures = ["x86_64"]
  handler       = "handler.handler"
  layers        = [aws_lambda_layer_version.data_science.arn]
  memory_size   = var.feature_lambda_memory_mb
  timeout       = var.feature_lambda_timeout_seconds

  filename         = local.artifacts.feature_lambda_zip
  source_code_hash = filebase64sha256(local.artifacts.feature_lambda_zip)

  environment {
    variables = {
      LOG_LEVEL     = var.lambda_log_level
      MAX_RAW_BYTES = tostring(var.feature_max_raw_bytes)
      # Run metrics (rows, seconds) go here; see monitoring.tf.
      METRICS_NAMESPACE = local.metrics_namespace
    }
  }

  # The log group (with its retention) and the permissions must exist before the first invocation
  # can log or touch S3.
  depends_on = [
    aws_cloudwatch_log_group.feature_lambda,
    aws_iam_role_policy.feature_lambda,
  ]
}

################################################################################
# cripto-glue-trigger: new features.parquet -> StartJobRun of the training job
################################################################################

resource "aws_lambda_function" "glue_trigger" {
  # Accepted checkov findings (tests/static/test_security.py), with the reason:
  #checkov:skip=CKV_AWS_116:Failed async events go to the on-failure destination (aws_lambda_function_event_invoke_config), which also records the error.
  #checkov:skip=CKV_AWS_117:Talks only to S3, Glue and CloudWatch Logs over AWS endpoints; a VPC would need NAT or endpoints for no gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (log level, size limit, job name); Lambda encrypts it at rest with an AWS key.
  #checkov:skip=CKV_AWS_272:Code signing needs AWS Signer profiles; artifacts are built reproducibly and their hashes pinned in the state.
  #checkov:skip=CKV_AWS_50:No X-Ray: structured logs carry the run id through the pipeline.

  function_name = local.trigger_lambda_name
  description   = "Starts the ${local.glue_job_name} Glue job for each new features file."
  role          = aws_iam_role.trigger_lambda.arn

  runtime       = "python3.12"
  architectures = ["x86_64"]
  handler       = "handler.handler"
  memory_size   = var.trigger_lambda_memory_mb
  timeout       = var.trigger_lambda_timeout_seconds
  # Each invocation may wait up to its timeout for a free Glue slot: reserved concurrency caps how many
  # wait at once (further events queue inside Lambda's async queue, up to the maximum event age).
  reserved_concurrent_executions = var.trigger_reserved_concurrency

  filename         = local.artifacts.trigger_lambda_zip
  source_code_hash = filebase64sha256(local.artifacts.trigger_lambda_zip)

  environment {
    variables = {
      GLUE_JOB_NAME = aws_glue_job.model_training.name
      LOG_LEVEL     = var.lambda_log_level
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.trigger_lambda,
    aws_iam_role_policy.trigger_lambda,
  ]
}

################################################################################
# Asynchronous invocations: bounded retries, then the event is kept, never dropped
################################################################################

# S3 invokes both functions asynchronously. An event that still fails after the retries (or is
# too old) lands here with the error, so it can be inspected and replayed.
resource "aws_sqs_queue" "failed_events" {
  name                      = local.failed_events_queue
  message_retention_seconds = var.failed_events_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_lambda_function_event_invoke_config" "feature_engineering" {
  function_name                = aws_lambda_function.feature_engineering.function_name
  maximum_retry_attempts       = var.lambda_async_max_retries
  maximum_event_age_in_seconds = var.lambda_async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failed_events.arn
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "glue_trigger" {
  function_name                = aws_lambda_function.glue_trigger.function_name
  maximum_retry_attempts       = var.lambda_async_max_retries
  maximum_event_age_in_seconds = var.lambda_async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failed_events.arn
    }
  }
}
