# State is a local file whose path scripts/terraform.sh passes at `init` time
# (`-backend-config=path=...`), one per environment, so the state of the local emulation and the
# state of a real AWS account can never mix:
#   local: <LOCALAWS_HOME>/terraform/local/terraform.tfstate (reset together with the emulation)
#   aws:   terraform/state/aws/terraform.tfstate (git-ignored; back it up)
#
# Teams deploying to AWS from several machines keep the aws state in S3 instead:
#   BACKEND_CONFIG=terraform/env/aws.s3.tfbackend make deploy-aws
# (see terraform/env/aws.s3.tfbackend.example). A backend's type cannot be set at `init`, so for
# that case scripts/terraform.sh runs these same files from an overlay directory whose backend.tf
# declares `backend "s3" {}`; this file, and the local emulation, stay on "local".
terraform {
  backend "local" {}
}
