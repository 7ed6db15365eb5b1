# A Python shell 3.9 job with the attributes Terraform reads back from GetJob; a second plan must be
# empty, which fails whenever the service drops or rewrites one of them.
resource "aws_s3_bucket" "scripts" {
  bucket        = var.bucket_name
  force_destroy = true
}

resource "aws_s3_object" "script" {
  bucket  = aws_s3_bucket.scripts.id
  key     = "scripts/job.py"
  content = "print('hello from terraform')\n"
}

resource "aws_glue_job" "this" {
  name            = var.job_name
  description     = "Terraform round trip against the local Glue service"
  role_arn        = var.role_arn
  max_capacity    = 0.0625
  timeout         = 10
  max_retries     = 1
  execution_class = "STANDARD"

  command {
    name            = "pythonshell"
    python_version  = "3.9"
    script_location = "s3://${aws_s3_bucket.scripts.id}/${aws_s3_object.script.key}"
  }

  default_arguments = {
    "--job-language" = "python"
    "library-set"    = "analytics"
    "--greeting"     = "hello"
  }

  non_overridable_arguments = {
    "--environment" = "local"
  }

  execution_property {
    max_concurrent_runs = 2
  }

  tags = {
    purpose = "integration-test"
  }
}

# A job with nothing but the required attributes: exercises the defaults GetJob must report.
resource "aws_glue_job" "minimal" {
  name     = "${var.job_name}-minimal"
  role_arn = var.role_arn

  command {
    name            = "pythonshell"
    script_location = "s3://${aws_s3_bucket.scripts.id}/${aws_s3_object.script.key}"
  }
}

# A Glue 5.0 Spark job (glueetl) sized with workers: the attributes a Spark job reads back.
resource "aws_glue_job" "spark" {
  name              = "${var.job_name}-spark"
  role_arn          = var.role_arn
  glue_version      = "5.0"
  worker_type       = "G.1X"
  number_of_workers = 2
  timeout           = 30

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_bucket.scripts.id}/${aws_s3_object.script.key}"
  }

  default_arguments = {
    "--job-language"        = "python"
    "--enable-metrics"      = "true"
    "--conf"                = "spark.sql.session.timeZone=UTC"
    "--job-bookmark-option" = "job-bookmark-disable"
  }
}
