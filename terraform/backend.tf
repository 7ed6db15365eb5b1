# State is a local file whose path scripts/terraform.sh passes at `init` time
# (`-backend-config=path=...`), one per environment, so the state of the local emulation and the
# state of a real AWS account can never mix. Teams deploying to AWS from several machines should
# switch this to the "s3" backend (with locking) — the resources do not change.
terraform {
  backend "local" {}
}
