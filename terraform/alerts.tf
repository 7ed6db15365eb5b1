################################################################################
# Alerts: one encrypted SNS topic; CloudWatch alarms (alarms.tf) and the Glue-failure EventBridge
# rule below publish to it. Subscribe e-mail with alert_email, or anything else (SQS, chat) by hand.
################################################################################

data "aws_iam_policy_document" "alerts_key" {
  # A key policy's "*" resource means this key only (AWS KMS key policy documentation):
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" is the key itself; writers are the account root and two service principals bound to this account.
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" is the key itself, not every resource.
  #checkov:skip=CKV_AWS_109:Key policy: the account root administers its own key (AWS's default key policy statement).
  # The account administers the key (the AWS default key policy statement).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  # CloudWatch alarms and EventBridge publish to an encrypted topic only if they may use its key;
  # the AWS-managed alias/aws/sns key does not allow them, hence this customer-managed key.
  statement {
    sid       = "AlarmAndEventPublishers"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "alerts" {
  description             = "Encrypts the ${local.alerts_topic_name} SNS topic."
  enable_key_rotation     = true
  deletion_window_in_days = var.alerts_key_deletion_window_days
  policy                  = data.aws_iam_policy_document.alerts_key.json
}

resource "aws_kms_alias" "alerts" {
  name          = "alias/${local.alerts_topic_name}"
  target_key_id = aws_kms_key.alerts.key_id
}

resource "aws_sns_topic" "alerts" {
  name              = local.alerts_topic_name
  kms_master_key_id = aws_kms_key.alerts.arn
}

# Least privilege: only this account's CloudWatch alarms of this stack and the Glue-failure rule may
# publish, each bound to its source; the account's own principals keep their IAM-granted access
# (subscribe, read attributes).
locals {
  alert_publishers = {
    CloudWatchAlarmsPublish = {
      service    = "cloudwatch.amazonaws.com"
      arn_test   = "ArnLike"
      source_arn = "arn:${local.partition}:cloudwatch:${var.aws_region}:${local.account_id}:alarm:${local.monitoring_prefix}-*"
    }
    GlueFailureRulePublishes = {
      service    = "events.amazonaws.com"
      arn_test   = "ArnEquals"
      source_arn = aws_cloudwatch_event_rule.glue_run_failed.arn
    }
  }
}

data "aws_iam_policy_document" "alerts_topic" {
  dynamic "statement" {
    for_each = local.alert_publishers

    content {
      sid       = statement.key
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.alerts.arn]
      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }
      condition {
        test     = statement.value.arn_test
        variable = "aws:SourceArn"
        values   = [statement.value.source_arn]
      }
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

# AWS sends a confirmation mail first: the subscription stays "pending" until its link is followed.
resource "aws_sns_topic_subscription" "alert_email" {
  count = var.alert_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

################################################################################
# Glue runs that end FAILED, TIMEOUT or STOPPED -> the alerts topic
################################################################################

# Glue puts a "Glue Job State Change" event on the default bus at each terminal state.
resource "aws_cloudwatch_event_rule" "glue_run_failed" {
  name        = local.glue_failure_rule_name
  description = "Training runs of ${aws_glue_job.model_training.name} that end FAILED, TIMEOUT or STOPPED."
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Job State Change"]
    detail = {
      jobName = [aws_glue_job.model_training.name]
      state   = ["FAILED", "TIMEOUT", "STOPPED"]
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_run_failed" {
  rule = aws_cloudwatch_event_rule.glue_run_failed.name
  arn  = aws_sns_topic.alerts.arn

  # The whole event, so a subscriber has jobName, jobRunId, state and Glue's message.
  depends_on = [aws_sns_topic_policy.alerts]
}
