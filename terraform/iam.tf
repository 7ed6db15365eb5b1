# One role per workload, each with one inline policy naming exactly the keys, log groups and job
# it needs. No wildcard actions; resource wildcards only below a key prefix or log group.

locals {
  bucket_arn = aws_s3_bucket.data.arn

  # Log-group ARNs are built from names so the policies do not depend on whether Terraform manages
  # the (account-wide) Glue groups.
  log_group_arn_prefix = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:"

  # The failed-events queue (lambda.tf), by name: see SendFailedEvents below.
  failed_events_queue_arn = "arn:${local.partition}:sqs:${var.aws_region}:${local.account_id}:${local.failed_events_queue}"
}

# Who may assume each kind of role: the Lambda service (both functions) and Glue (the job).
data "aws_iam_policy_document" "assume_role" {
  for_each = toset(["lambda", "glue"])

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["${each.key}.amazonaws.com"]
    }
  }
}

################################################################################
# Lambda functions: one role each (keys of local.lambda_names), what each may do below
################################################################################

# Feature engineering: raw uploads in, features and error reports out.
data "aws_iam_policy_document" "feature_lambda" {
  statement {
    sid = "ReadRawUploads"
    # GetObjectVersion: the function reads the exact version named in the S3 event.
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.bucket_arn}/raw.csv", "${local.bucket_arn}/raw/*"]
  }

  # Identical content uploaded again: the function reads which run already claimed it.
  statement {
    sid       = "ReadContentClaims"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/features/*/_content/*"]
  }

  # inputs.json of the Spark feature job: read back when a redelivered event finds it written.
  statement {
    sid       = "ReadSparkInputs"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/features/*/inputs.json"]
  }

  # PutObject covers inputs.json too (features/<dataset>/<run_id>/inputs.json).
  statement {
    sid       = "WriteFeaturesAndErrors"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/features/*", "${local.bucket_arn}/errors/*"]
  }

  # Several-file datasets: the debounce lists the current versions under raw/<dataset>/.
  statement {
    sid       = "ListRawDatasets"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["raw/*"]
    }
  }

  # Datasets above MAX_RAW_BYTES: start the Spark feature job, and find its run after a retry. The ARN is
  # built from the name in locals, so this role does not depend on the job resource (glue_spark.tf).
  statement {
    sid       = "StartSparkFeatureJob"
    actions   = ["glue:StartJobRun", "glue:GetJobRuns"]
    resources = ["arn:${local.partition}:glue:${var.aws_region}:${local.account_id}:job/${local.spark_features_job_name}"]
  }
}

# Glue trigger: starts (and inspects) runs of the one training job.
data "aws_iam_policy_document" "trigger_lambda" {
  statement {
    sid       = "StartTrainingJob"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns"]
    resources = [aws_glue_job.model_training.arn]
  }

  # Exactly-once starts: the start claim of each features file (conditional put, then the run id).
  # Read only after a put found it existing, so a missing key never needs s3:ListBucket.
  statement {
    sid       = "ClaimGlueStarts"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.bucket_arn}/features/*/glue-start.json"]
  }

  # While the job is busy the function continues in a fresh asynchronous invocation of itself. The ARN
  # is built from the name: referencing the function here would make a dependency cycle.
  statement {
    sid       = "ContinueWhileJobIsBusy"
    actions   = ["lambda:InvokeFunction"]
    resources = ["arn:${local.partition}:lambda:${var.aws_region}:${local.account_id}:function:${local.trigger_lambda_name}"]
  }
}

# Glue-run metrics: reads the duration of the training job's runs (PutMetricData: monitoring.tf).
data "aws_iam_policy_document" "glue_runs_lambda" {
  statement {
    sid       = "ReadTrainingRuns"
    actions   = ["glue:GetJobRun"]
    resources = [aws_glue_job.model_training.arn]
  }
}

locals {
  # Each function's role: what it is for (its description) and its own statements.
  lambda_access = {
    feature = {
      purpose = "reads raw uploads, writes features and error reports, starts the Spark feature job for large datasets."
      policy  = data.aws_iam_policy_document.feature_lambda.json
    }
    trigger = {
      purpose = "starts ${local.glue_job_name} for new feature files."
      policy  = data.aws_iam_policy_document.trigger_lambda.json
    }
    "glue-runs" = {
      purpose = "counts finished runs of ${local.glue_job_name} by state, with their duration."
      policy  = data.aws_iam_policy_document.glue_runs_lambda.json
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = local.lambda_names

  name               = local.role_names[each.key]
  description        = "Runs ${each.value}: ${local.lambda_access[each.key].purpose}"
  assume_role_policy = data.aws_iam_policy_document.assume_role["lambda"].json
}

# A function's own statements, then what every function needs.
data "aws_iam_policy_document" "lambda" {
  for_each = local.lambda_names

  source_policy_documents = [local.lambda_access[each.key].policy]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  # Lambda sends events that failed all retries with the function's role. The ARN is built from the
  # queue's name: a reference to the queue would make the roles, and so the functions, wait for SQS's
  # creation (the provider polls it for ~25 s) although IAM never checks that the resource exists.
  statement {
    sid       = "SendFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [local.failed_events_queue_arn]
  }
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.lambda_names

  name   = "least-privilege"
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

################################################################################
# Glue training job: features and code in, models out
################################################################################

resource "aws_iam_role" "glue" {
  name               = local.role_names.glue
  description        = "Runs the Glue job ${local.glue_job_name}: reads features and its code, writes models."
  assume_role_policy = data.aws_iam_policy_document.assume_role["glue"].json
}

data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "ReadFeaturesAndCode"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/features/*", "${local.bucket_arn}/${local.artifacts_prefix}*"]
  }

  # latest.json is read before it is replaced: an older run must never overwrite a newer one.
  statement {
    sid       = "ReadLatestPointers"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/models/*/latest.json"]
  }

  statement {
    sid       = "WriteModels"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/models/*"]
  }

  # Without ListBucket a missing key answers 403 AccessDenied instead of 404 NoSuchKey: the job
  # treats a missing latest.json (first run of a dataset) as NoSuchKey, and "the features file is
  # not there" should not read as a permissions error.
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["features/*", "models/*", "${local.artifacts_prefix}*"]
    }
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for name in local.glue_log_group_names : "${local.log_group_arn_prefix}${name}:*"]
  }
}

resource "aws_iam_role_policy" "glue" {
  name   = "least-privilege"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}
