resource "aws_s3_bucket" "data" {
  # Accepted checkov findings (tests/static/test_security.py), with the reason:
  #checkov:skip=CKV_AWS_18:Access logs need a second bucket; CloudTrail S3 data events are the audit trail to enable per account.
  #checkov:skip=CKV_AWS_144:Everything here is re-creatable from the raw uploads; cross-region replication would double storage cost.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) by default; a customer-managed KMS key adds cost and a key policy without changing who can read.

  bucket        = local.bucket_name
  force_destroy = var.bucket_force_destroy
}

# Bucket-owner-enforced: ACLs are disabled, access is decided by policies alone.
resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket = aws_s3_bucket.data.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versioning gives every raw upload a version id, which the pipeline records in its lineage, and
# lets a bad overwrite of a model be rolled back.
resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Versioning keeps every overwritten object (latest.json is rewritten on each run): expire old
# versions so the bucket does not grow without bound.
# Creating (or changing) it takes at least 55 s wherever it is applied, AWS or the emulation: after
# the put, the AWS provider's waitLifecycleConfigEquals (internal/service/s3/
# bucket_lifecycle_configuration.go in hashicorp/terraform-provider-aws, since PR #41764) waits
# Delay 10 s, then needs 10 consecutive matching reads (ContinuousTargetOccurence) 5 s apart
# (PollInterval): 10 + 9 x 5 = 55 s, however fast and consistent the server is. That is the floor of a
# fresh deploy, so nothing may wait for this resource: it is a leaf of the graph (nothing references
# it), and the rest of the stack is created during those 55 s.
resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {} # every object

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.bucket.json

  # S3 rejects concurrent changes to a bucket's policy and its public access block
  # (OperationAborted): apply them one after the other.
  depends_on = [aws_s3_bucket_public_access_block.data]
}

################################################################################
# Deployment artifacts (built by scripts/build_artifacts.py)
################################################################################

# What Terraform uploads, by the artifact it is. The layer zip is larger than Lambda's 50 MB limit
# for direct uploads, so it goes through S3 too.
locals {
  artifact_objects = {
    layer        = { key = "layers/${local.layer_name}.zip", source = local.artifacts.layer_zip, content_type = null }
    glue_script  = { key = "glue/model_training.py", source = local.artifacts.glue_script, content_type = "text/x-python" }
    spark_script = { key = "glue/spark_features_job.py", source = local.artifacts.spark_script, content_type = "text/x-python" }
    glue_package = { key = "glue/${basename(local.artifacts.glue_package)}", source = local.artifacts.glue_package, content_type = "application/zip" }
  }
}

resource "aws_s3_object" "artifact" {
  for_each = local.artifact_objects

  bucket       = aws_s3_bucket.data.id
  key          = "${local.artifacts_prefix}${each.value.key}"
  source       = each.value.source
  source_hash  = filemd5(each.value.source)
  content_type = each.value.content_type

  # The layer version names the object's version id, which exists once versioning is on.
  depends_on = [aws_s3_bucket_versioning.data]
}

# The Glue job's report modules: one object per wheel that scripts/build_artifacts.py downloaded
# (glue.tf names them in --additional-python-modules).
resource "aws_s3_object" "glue_module" {
  for_each = local.glue_module_wheels

  bucket       = aws_s3_bucket.data.id
  key          = "${local.glue_modules_prefix}${each.value}"
  source       = "${local.glue_module_wheels_dir}/${each.value}"
  source_hash  = filemd5("${local.glue_module_wheels_dir}/${each.value}")
  content_type = "application/zip"

  depends_on = [aws_s3_bucket_versioning.data]
}
