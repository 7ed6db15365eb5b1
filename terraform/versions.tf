terraform {
  # 1.5 brought `check`/`import` blocks and the validation features used in variables.tf.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is the version the project is tested with (and the one in the offline mirror);
      # `~>` still accepts later 5.x fixes, but never 6.x, whose breaking changes are untested.
      version = "~> 5.100"
    }
  }
}
