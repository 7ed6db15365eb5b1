# The local emulation (scripts/deploy.sh local). Endpoints are not set here: scripts/terraform.sh
# exports AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_GLUE / AWS_S3_USE_PATH_STYLE for this environment.
aws_region  = "us-east-1"
environment = "local"
# No s3_bucket_name: the default <project>-<environment>-<account id> (cripto-ml-pipeline-local-000000000000).
# LocalStack's account: the provider refuses credentials of any other.
allowed_account_ids = ["000000000000"]

# The emulation is disposable: let `destroy` empty the bucket.
bucket_force_destroy = true
lambda_log_level     = "DEBUG"

# LocalStack's own async-invoke poller calls functions with a 60 s HTTP read timeout and invokes again
# when it expires, so a local invocation must end well within a minute. The trigger then waits for a
# free Glue slot in 50 s steps (each step a fresh invocation); on AWS it waits up to 15 min per step.
trigger_lambda_timeout_seconds = 50

# Alarms evaluate 10 s windows (legal on AWS too) so a test sees ALARM within seconds; the
# dashboard aggregates per minute.
alarm_period_seconds     = 10
dashboard_period_seconds = 60
# The emulation's KMS forgets keys on restart anyway; the shortest window AWS allows.
alerts_key_deletion_window_days = 7

# Large datasets (issue 12): above MAX_RAW_BYTES the Spark feature job builds the features. A low limit
# keeps "just above the limit" a few MB in the integration tests (AWS keeps the 128 MiB default); the
# debounce of several-file datasets is short because of the 60 s poller timeout above.
feature_max_raw_bytes    = 8388608 # 8 MiB
feature_debounce_seconds = 5

# Training capacity (issue 12): a features.parquet above this trains at 1 DPU instead of 0.0625. Lowered
# from AWS's 32 MiB so the large-path test crosses it (its file just above 8 MiB of CSV gives ~28.5 MiB
# of features) while the e2e samples stay below (daily 0.4 MiB, hourly 4.8 MiB).
glue_large_run_features_bytes = 8388608 # 8 MiB
