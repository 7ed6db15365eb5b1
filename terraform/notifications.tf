# S3 -> Lambda wiring. S3 checks it may invoke each target when the notification is saved, so the
# permissions come first; one bucket has exactly one notification configuration, hence one resource.

locals {
  # Which new objects start which function (keys of local.lambdas).
  s3_triggers = {
    # Prefix "raw" (no slash) + suffix ".csv" matches raw.csv (dataset "default"), raw/<dataset>.csv and
    # the files of several-file datasets, raw/<dataset>/<file>.csv. It also matches e.g. rawdata.csv: the
    # function reports such keys under errors/_invalid-key/ instead of ignoring them silently.
    feature = { id = "raw-csv-to-features", prefix = "raw", suffix = ".csv" }
    # Only features.parquet, written after its manifest, starts training (see cripto_pipeline/layout.py);
    # the Spark feature job's parts/part-*.parquet never do (it writes features.parquet last).
    trigger = { id = "features-to-training", prefix = "features/", suffix = "features.parquet" }
  }
}

resource "aws_lambda_permission" "s3_invokes_lambda" {
  for_each = local.s3_triggers

  statement_id   = "AllowS3InvokeFromDataBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.lambda[each.key].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.data.arn
  source_account = local.account_id # bucket ARNs carry no account: guards against a re-created bucket elsewhere
}

resource "aws_s3_bucket_notification" "data" {
  bucket = aws_s3_bucket.data.id

  dynamic "lambda_function" {
    for_each = local.s3_triggers

    content {
      id                  = lambda_function.value.id
      lambda_function_arn = aws_lambda_function.lambda[lambda_function.key].arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = lambda_function.value.prefix
      filter_suffix       = lambda_function.value.suffix
    }
  }

  depends_on = [aws_lambda_permission.s3_invokes_lambda]
}
