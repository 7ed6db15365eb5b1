# The local emulation (scripts/deploy.sh local). Endpoints are not set here: scripts/terraform.sh
# exports AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_GLUE / AWS_S3_USE_PATH_STYLE for this environment.
aws_region     = "us-east-1"
environment    = "local"
s3_bucket_name = "criptos-data"

# The emulation is disposable: let `destroy` empty the bucket.
bucket_force_destroy = true
lambda_log_level     = "DEBUG"
