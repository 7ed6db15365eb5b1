# Endpoints and credentials come from the environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_GLUE,
# AWS_ACCESS_KEY_ID, ...), so this configuration has nothing local in it.
provider "aws" {
  region = var.region
}
