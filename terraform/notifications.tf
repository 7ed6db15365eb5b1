# S3 -> Lambda wiring. S3 checks it may invoke each target when the notification is saved, so the
# permissions come first; one bucket has exactly one notification configuration, hence one resource.

resource "aws_lambda_permission" "s3_invokes_feature_lambda" {
  statement_id   = "AllowS3InvokeFromDataBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.feature_engineering.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.data.arn
  source_account = local.account_id # bucket ARNs carry no account: guards against a re-created bucket elsewhere
}

resource "aws_lambda_permission" "s3_invokes_trigger_lambda" {
  statement_id   = "AllowS3InvokeFromDataBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.glue_trigger.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.data.arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "data" {
  bucket = aws_s3_bucket.data.id

  # Prefix "raw" (no slash) + suffix ".csv" matches both raw.csv (dataset "default") and
  # raw/<dataset>.csv. It also matches e.g. rawdata.csv: the function reports such keys under
  # errors/_invalid-key/ instead of ignoring them silently.
  lambda_function {
    id                  = "raw-csv-to-features"
    lambda_function_arn = aws_lambda_function.feature_engineering.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "raw"
    filter_suffix       = ".csv"
  }

  # Only the Parquet file, written after its manifest, starts training (see cripto_pipeline/layout.py).
  lambda_function {
    id                  = "features-to-training"
    lambda_function_arn = aws_lambda_function.glue_trigger.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "features/"
    filter_suffix       = ".parquet"
  }

  depends_on = [
    aws_lambda_permission.s3_invokes_feature_lambda,
    aws_lambda_permission.s3_invokes_trigger_lambda,
  ]
}
