################################################################################
# General
################################################################################

variable "aws_region" {
  description = "AWS region every resource is created in (e.g. us-east-1)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like an AWS region name, e.g. us-east-1 or eu-west-3."
  }
}

variable "project" {
  description = "Project name; set as the Project tag on every resource."
  type        = string
  default     = "cripto-ml-pipeline"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.project))
    error_message = "project must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "environment" {
  description = "Deployment environment name (e.g. local, dev, prod); the suffix of every resource name and the Environment tag."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens."
  }

  # The longest name, <project>-feature-engineering-<environment>-role, must fit IAM's 64 characters.
  validation {
    condition     = length(var.project) + length(var.environment) <= 38
    error_message = "project and environment together must be at most 38 characters (resource names are <project>-<component>-<environment>)."
  }
}

variable "allowed_account_ids" {
  description = "AWS account ids this configuration may be applied to (the provider refuses any other); null allows any. env/aws.tfvars must name yours."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_account_ids == null ? true : alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must be a list of 12-digit AWS account ids."
  }
}

variable "tags" {
  description = "Extra tags for every resource (merged under Project/Environment/ManagedBy, which win)."
  type        = map(string)
  default     = {}
}

variable "artifacts_dir" {
  description = "Directory holding the output of scripts/build_artifacts.py; relative to this terraform/ directory unless absolute."
  type        = string
  default     = "../build"

  validation {
    condition     = length(trimspace(var.artifacts_dir)) > 0
    error_message = "artifacts_dir must not be empty."
  }
}

################################################################################
# S3
################################################################################

variable "s3_bucket_name" {
  description = "Name of the data bucket (raw uploads, features, models, errors, deployment artifacts). Globally unique on AWS; null (default): <project>-<environment>-<account id>."
  type        = string
  default     = null

  # No dots: a dotted name breaks virtual-hosted-style HTTPS (the certificate covers one label) and
  # S3 Transfer Acceleration.
  validation {
    condition     = var.s3_bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.s3_bucket_name))
    error_message = "s3_bucket_name must be 3-63 characters: lowercase letters, digits and hyphens (no dots), starting and ending with a letter or digit."
  }
}

variable "bucket_force_destroy" {
  description = "Let `terraform destroy` delete the bucket even when it still holds objects (all versions). Keep false where the data matters."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten (noncurrent) object versions are deleted, in days (1-3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number from 1 to 3650."
  }
}

################################################################################
# Lambda
################################################################################

variable "lambda_log_level" {
  description = "LOG_LEVEL of both functions: DEBUG, INFO, WARNING or ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.lambda_log_level)
    error_message = "lambda_log_level must be one of DEBUG, INFO, WARNING, ERROR."
  }
}

variable "feature_lambda_memory_mb" {
  description = "Memory of the feature-engineering function, in MB (128-10240). Peak use grows with the CSV size (`make bench`, group large, measures it; see bench/results.md): keep it well above the peak for feature_max_raw_bytes."
  type        = number
  default     = 3008

  validation {
    condition     = var.feature_lambda_memory_mb >= 128 && var.feature_lambda_memory_mb <= 10240 && floor(var.feature_lambda_memory_mb) == var.feature_lambda_memory_mb
    error_message = "feature_lambda_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "feature_lambda_timeout_seconds" {
  description = "Timeout of the feature-engineering function, in seconds (1-900)."
  type        = number
  default     = 120

  validation {
    condition     = var.feature_lambda_timeout_seconds >= 1 && var.feature_lambda_timeout_seconds <= 900 && floor(var.feature_lambda_timeout_seconds) == var.feature_lambda_timeout_seconds
    error_message = "feature_lambda_timeout_seconds must be a whole number from 1 to 900."
  }
}

variable "feature_max_raw_bytes" {
  description = "MAX_RAW_BYTES of the feature-engineering function: larger uploads are rejected with an error report, in bytes (1 to 1073741824 = 1 GiB). Raise feature_lambda_memory_mb with it."
  type        = number
  default     = 134217728 # 128 MiB, the function's own default: >= 1 M rows of any usual OHLCV export.

  validation {
    condition     = var.feature_max_raw_bytes >= 1 && var.feature_max_raw_bytes <= 1073741824 && floor(var.feature_max_raw_bytes) == var.feature_max_raw_bytes
    error_message = "feature_max_raw_bytes must be a whole number from 1 to 1073741824."
  }
}

variable "feature_debounce_seconds" {
  description = "DEBOUNCE_SECONDS of the feature-engineering function: quiet period after an upload to a several-file dataset (raw/<dataset>/<file>.csv) before its one run starts, in seconds (0-600). A burst of uploads within it gives one run. Must stay below feature_lambda_timeout_seconds, with room for the work itself."
  type        = number
  default     = 20

  validation {
    condition     = var.feature_debounce_seconds >= 0 && var.feature_debounce_seconds <= 600 && var.feature_debounce_seconds + 30 <= var.feature_lambda_timeout_seconds
    error_message = "feature_debounce_seconds must be from 0 to 600 and leave at least 30 s of feature_lambda_timeout_seconds for the work."
  }
}

variable "trigger_lambda_memory_mb" {
  description = "Memory of the Glue-trigger function, in MB (128-10240)."
  type        = number
  default     = 128

  validation {
    condition     = var.trigger_lambda_memory_mb >= 128 && var.trigger_lambda_memory_mb <= 10240 && floor(var.trigger_lambda_memory_mb) == var.trigger_lambda_memory_mb
    error_message = "trigger_lambda_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "trigger_lambda_timeout_seconds" {
  description = "Timeout of the Glue-trigger function, in seconds (30-900). While the job is at max_concurrent_runs the function waits for a free slot until this deadline, then hands the request to a fresh invocation of itself (up to 6 h in total, START_MAX_WAIT_SECONDS); longer means fewer invocations."
  type        = number
  default     = 900

  validation {
    condition     = var.trigger_lambda_timeout_seconds >= 30 && var.trigger_lambda_timeout_seconds <= 900 && floor(var.trigger_lambda_timeout_seconds) == var.trigger_lambda_timeout_seconds
    error_message = "trigger_lambda_timeout_seconds must be a whole number from 30 to 900."
  }
}

variable "glue_runs_lambda_memory_mb" {
  description = "Memory of the glue-run-metrics function (counts finished Glue runs by state), in MB (128-10240)."
  type        = number
  default     = 128

  validation {
    condition     = var.glue_runs_lambda_memory_mb >= 128 && var.glue_runs_lambda_memory_mb <= 10240 && floor(var.glue_runs_lambda_memory_mb) == var.glue_runs_lambda_memory_mb
    error_message = "glue_runs_lambda_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "glue_runs_lambda_timeout_seconds" {
  description = "Timeout of the glue-run-metrics function, in seconds (3-900): one GetJobRun and one PutMetricData per finished run."
  type        = number
  default     = 30

  validation {
    condition     = var.glue_runs_lambda_timeout_seconds >= 3 && var.glue_runs_lambda_timeout_seconds <= 900 && floor(var.glue_runs_lambda_timeout_seconds) == var.glue_runs_lambda_timeout_seconds
    error_message = "glue_runs_lambda_timeout_seconds must be a whole number from 3 to 900."
  }
}

variable "trigger_reserved_concurrency" {
  description = "Reserved concurrent executions of the Glue-trigger function (1-900, or -1): the most trigger invocations that can wait for a Glue slot at once, so a burst of uploads cannot take the account's whole Lambda concurrency (1,000 by default; Lambda keeps 100 unreserved). -1: unreserved (accounts whose quota is still 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.trigger_reserved_concurrency == -1 || (var.trigger_reserved_concurrency >= 1 && var.trigger_reserved_concurrency <= 900 && floor(var.trigger_reserved_concurrency) == var.trigger_reserved_concurrency)
    error_message = "trigger_reserved_concurrency must be -1 (unreserved) or a whole number from 1 to 900 (Lambda keeps 100 of the default 1,000 unreserved)."
  }
}

variable "lambda_async_max_retries" {
  description = "Retries of a failed asynchronous (S3-triggered) invocation before the event goes to the failed-events queue (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.lambda_async_max_retries)
    error_message = "lambda_async_max_retries must be 0, 1 or 2 (the Lambda maximum)."
  }
}

variable "lambda_async_max_event_age_seconds" {
  description = "Oldest age of an S3 event Lambda still retries, in seconds (60-21600); older events go to the failed-events queue."
  type        = number
  default     = 3600

  validation {
    condition     = var.lambda_async_max_event_age_seconds >= 60 && var.lambda_async_max_event_age_seconds <= 21600 && floor(var.lambda_async_max_event_age_seconds) == var.lambda_async_max_event_age_seconds
    error_message = "lambda_async_max_event_age_seconds must be a whole number from 60 to 21600."
  }
}

variable "failed_events_retention_seconds" {
  description = "How long the failed-events queue keeps a message, in seconds (60-1209600 = 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failed_events_retention_seconds >= 60 && var.failed_events_retention_seconds <= 1209600 && floor(var.failed_events_retention_seconds) == var.failed_events_retention_seconds
    error_message = "failed_events_retention_seconds must be a whole number from 60 to 1209600."
  }
}

################################################################################
# Glue
################################################################################

variable "glue_timeout_minutes" {
  description = "Timeout of one model-training run, in minutes (1-2880); the run is stopped with state TIMEOUT after it."
  type        = number
  default     = 30

  validation {
    condition     = var.glue_timeout_minutes >= 1 && var.glue_timeout_minutes <= 2880 && floor(var.glue_timeout_minutes) == var.glue_timeout_minutes
    error_message = "glue_timeout_minutes must be a whole number from 1 to 2880."
  }
}

variable "glue_max_concurrent_runs" {
  description = "Maximum concurrent runs of each Glue job, the training job and the Spark feature job alike (1-1000); runs beyond it wait in job run queuing (state WAITING) when the job has no retries, else StartJobRun fails with ConcurrentRunsExceededException."
  type        = number
  default     = 3

  validation {
    condition     = var.glue_max_concurrent_runs >= 1 && var.glue_max_concurrent_runs <= 1000 && floor(var.glue_max_concurrent_runs) == var.glue_max_concurrent_runs
    error_message = "glue_max_concurrent_runs must be a whole number from 1 to 1000."
  }
}

variable "glue_max_retries" {
  description = "Automatic retries of a failed training run (0-10). 0: a failed run is reported, not silently repeated."
  type        = number
  default     = 0

  validation {
    condition     = var.glue_max_retries >= 0 && var.glue_max_retries <= 10 && floor(var.glue_max_retries) == var.glue_max_retries
    error_message = "glue_max_retries must be a whole number from 0 to 10."
  }
}

variable "glue_large_run_features_bytes" {
  description = "LARGE_RUN_FEATURES_BYTES of the trigger: a training run whose features.parquet is larger than this (bytes) starts at glue_large_run_max_capacity instead of the job's 0.0625 DPU (1 GB), which it would exceed. 1 to 1073741824; default 32 MiB (why: src/cripto_pipeline/training_capacity.py)."
  type        = number
  default     = 33554432 # 32 MiB: the job peaked at 487 MiB on 32.9 MiB of features, under half of 1 GB.

  validation {
    condition     = var.glue_large_run_features_bytes >= 1 && var.glue_large_run_features_bytes <= 1073741824 && floor(var.glue_large_run_features_bytes) == var.glue_large_run_features_bytes
    error_message = "glue_large_run_features_bytes must be a whole number from 1 to 1073741824."
  }
}

variable "glue_large_run_max_capacity" {
  description = "LARGE_RUN_MAX_CAPACITY of the trigger: MaxCapacity (DPU) of training runs above glue_large_run_features_bytes. A Python shell run has 0.0625 (1 GB) or 1 (16 GB); the run's report and make status price what it had."
  type        = number
  default     = 1

  validation {
    condition     = contains([0.0625, 1], var.glue_large_run_max_capacity)
    error_message = "glue_large_run_max_capacity must be 0.0625 or 1 (the two capacities of a Python shell run)."
  }
}

variable "manage_glue_log_groups" {
  description = "Create /aws-glue/python-jobs/{output,error} and /aws-glue/jobs/{output,error} (Spark). These groups are shared by every Python shell / Spark job of the account and region: set false (or `terraform import` them) where they already exist. `destroy` never deletes them (skip_destroy)."
  type        = bool
  default     = true
}

################################################################################
# Glue Spark feature job (large datasets, issue 12)
################################################################################

variable "spark_worker_type" {
  description = "Glue worker type of the Spark feature job: G.1X (1 DPU = 4 vCPU, 16 GB per worker), G.2X (2 DPU), G.4X (4 DPU) or G.8X (8 DPU). Billed per DPU-second, 1-minute minimum per run."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.spark_worker_type)
    error_message = "spark_worker_type must be one of G.1X, G.2X, G.4X, G.8X."
  }
}

variable "spark_number_of_workers" {
  description = "Workers of one Spark feature run, the driver included (2-299; Glue needs at least 2). DPUs billed = workers x DPU per worker."
  type        = number
  default     = 2

  validation {
    condition     = var.spark_number_of_workers >= 2 && var.spark_number_of_workers <= 299 && floor(var.spark_number_of_workers) == var.spark_number_of_workers
    error_message = "spark_number_of_workers must be a whole number from 2 to 299."
  }
}

variable "spark_timeout_minutes" {
  description = "Timeout of one Spark feature run, in minutes (1-2880); the run is stopped with state TIMEOUT after it."
  type        = number
  default     = 60

  validation {
    condition     = var.spark_timeout_minutes >= 1 && var.spark_timeout_minutes <= 2880 && floor(var.spark_timeout_minutes) == var.spark_timeout_minutes
    error_message = "spark_timeout_minutes must be a whole number from 1 to 2880."
  }
}

variable "training_sample_rows" {
  description = "Most rows of the features.parquet the Spark feature job writes for training (a time-stratified sample of all feature rows; 1000 to 100000000)."
  type        = number
  default     = 1000000

  validation {
    condition     = var.training_sample_rows >= 1000 && var.training_sample_rows <= 100000000 && floor(var.training_sample_rows) == var.training_sample_rows
    error_message = "training_sample_rows must be a whole number from 1000 to 100000000."
  }
}

################################################################################
# Logs
################################################################################

variable "log_retention_days" {
  description = "Retention of every log group this stack creates, in days (a CloudWatch Logs value: 1, 3, 5, 7, 14, 30, 60, 90, ...)."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

################################################################################
# Monitoring (alerts.tf, alarms.tf, dashboard.tf)
################################################################################

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic (AWS mails a confirmation link first). Empty = no subscription."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be empty or an e-mail address."
  }
}

variable "alerts_key_deletion_window_days" {
  description = "Waiting period before the alerts topic's KMS key is deleted after destroy, in days (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.alerts_key_deletion_window_days >= 7 && var.alerts_key_deletion_window_days <= 30
    error_message = "alerts_key_deletion_window_days must be between 7 and 30 days."
  }
}

variable "alarm_period_seconds" {
  description = "Length of the window each alarm evaluates, in seconds: 10, 30 or a multiple of 60 (AWS's rule). AWS's own Lambda/SQS metrics have 60 s resolution."
  type        = number
  default     = 60

  validation {
    condition     = contains([10, 30], var.alarm_period_seconds) || (var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0)
    error_message = "alarm_period_seconds must be 10, 30 or a multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive breaching periods before an alarm goes to ALARM, in periods (1-10)."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && var.alarm_evaluation_periods <= 10
    error_message = "alarm_evaluation_periods must be between 1 and 10."
  }
}

variable "lambda_errors_threshold" {
  description = "Errors of one function within one alarm period above which its errors alarm fires, in errors (0 = any error)."
  type        = number
  default     = 0

  validation {
    condition     = var.lambda_errors_threshold >= 0
    error_message = "lambda_errors_threshold must be >= 0."
  }
}

variable "lambda_throttles_threshold" {
  description = "Throttled invocations of one function within one alarm period above which its alarm fires, in invocations (0 = any)."
  type        = number
  default     = 0

  validation {
    condition     = var.lambda_throttles_threshold >= 0
    error_message = "lambda_throttles_threshold must be >= 0."
  }
}

variable "lambda_duration_timeout_share" {
  description = "Share of a function's timeout its p95 duration may reach before the duration alarm fires, as a fraction (0.1-1.0; 0.8 = 80 %)."
  type        = number
  default     = 0.8

  validation {
    condition     = var.lambda_duration_timeout_share >= 0.1 && var.lambda_duration_timeout_share <= 1
    error_message = "lambda_duration_timeout_share must be between 0.1 and 1.0."
  }
}

variable "lambda_memory_used_share" {
  description = "Share of a function's memory size its max memory used may reach before the memory alarm fires, as a fraction (0.1-1.0; 0.9 = 90 %)."
  type        = number
  default     = 0.9

  validation {
    condition     = var.lambda_memory_used_share >= 0.1 && var.lambda_memory_used_share <= 1
    error_message = "lambda_memory_used_share must be between 0.1 and 1.0."
  }
}

variable "failed_events_visible_threshold" {
  description = "Messages waiting in the failed-events queue above which its alarm fires, in messages (0 = any)."
  type        = number
  default     = 0

  validation {
    condition     = var.failed_events_visible_threshold >= 0
    error_message = "failed_events_visible_threshold must be >= 0."
  }
}

variable "alarm_on_model_below_baselines" {
  description = "Alarm (informational) when a run's selected model does not beat every baseline (BeatsBaselines = 0)."
  type        = bool
  default     = false
}

variable "monitored_datasets" {
  description = "Datasets (the `dataset` metric dimension: raw.csv = default, raw/<name>.csv = name) shown on the dashboard and watched by the model alarm."
  type        = list(string)
  default     = ["default"]

  validation {
    condition     = length(var.monitored_datasets) > 0
    error_message = "monitored_datasets must name at least one dataset."
  }
}

variable "dashboard_period_seconds" {
  description = "Aggregation period of the dashboard's graphs, in seconds: 1, 5, 10, 30 or a multiple of 60."
  type        = number
  default     = 300

  validation {
    condition     = contains([1, 5, 10, 30], var.dashboard_period_seconds) || (var.dashboard_period_seconds >= 60 && var.dashboard_period_seconds % 60 == 0)
    error_message = "dashboard_period_seconds must be 1, 5, 10, 30 or a multiple of 60."
  }
}
