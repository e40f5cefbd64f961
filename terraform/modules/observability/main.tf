# Log groups the hosts ship to (the CloudWatch agent, installed at boot),
# request, 5xx and latency metrics from nginx's JSON access log, and alarms on
# errors, latency, target health, launches, the certificate and the
# database, sent to SNS.
#
# Missing data is never "fine" here: the load balancer's health checks hit
# /api/health every few seconds and nginx logs them, so the access log
# metrics have a data point (0 when nothing matched) in every period as long
# as logs arrive. No data means no hosts or no log shipping, and alarms.

locals {
  namespace = "EasySKS/${var.environment}"

  log_groups = {
    app          = "/easysks/${var.environment}/app"
    nginx_access = "/easysks/${var.environment}/nginx-access"
    nginx_error  = "/easysks/${var.environment}/nginx-error"
  }

  alarm_actions = [aws_sns_topic.alarms.arn]

  # Health checks are logged but are not user traffic.
  not_health_check = "$.uri != \"/api/health\""

  # Burstable classes (db.t*) spend CPU credits; others publish no balance.
  db_burstable = can(regex("^db\\.t", var.db_instance_class))
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name              = each.value
  retention_in_days = var.log_retention_days
}

# nginx logs one JSON object per request with a numeric "status" field.
resource "aws_cloudwatch_log_metric_filter" "requests" {
  name           = "${var.name}-requests"
  log_group_name = aws_cloudwatch_log_group.this["nginx_access"].name
  pattern        = "{ $.status >= 100 && ${local.not_health_check} }"

  metric_transformation {
    name          = "Requests"
    namespace     = local.namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "http_5xx" {
  name           = "${var.name}-http-5xx"
  log_group_name = aws_cloudwatch_log_group.this["nginx_access"].name
  pattern        = "{ $.status >= 500 && ${local.not_health_check} }"

  metric_transformation {
    name          = "Http5xx"
    namespace     = local.namespace
    value         = "1"
    default_value = "0"
  }
}

# nginx's $request_time (seconds, a JSON number) of every request but the
# health checks; the p99 alarm reads a percentile of it.
resource "aws_cloudwatch_log_metric_filter" "request_time" {
  name           = "${var.name}-request-time"
  log_group_name = aws_cloudwatch_log_group.this["nginx_access"].name
  pattern        = "{ $.request_time >= 0 && ${local.not_health_check} }"

  metric_transformation {
    name      = "RequestTime"
    namespace = local.namespace
    value     = "$.request_time"
    unit      = "Seconds"
  }
}

# The pool, the job process and the operator commands log at level "error"
# only what an operator has to look at: an unexpected database error, a
# learner paying for two subscriptions, a programming error caught at run
# time.
resource "aws_cloudwatch_log_metric_filter" "app_errors" {
  name           = "${var.name}-app-errors"
  log_group_name = aws_cloudwatch_log_group.this["app"].name
  pattern        = "{ $.level = \"error\" }"

  metric_transformation {
    name          = "AppErrors"
    namespace     = local.namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }

  statement {
    sid       = "EventBridgeRules"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.launch_failed.arn]
    }
  }

  statement {
    sid       = "DatabaseEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["events.rds.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_db_event_subscription.this.arn]
    }
  }

  statement {
    sid       = "BackupVaultEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "http_5xx_rate" {
  alarm_name          = "${var.name}-http-5xx-rate"
  alarm_description   = "More than ${var.http_5xx_rate_threshold}% of requests answered 5xx, or no access log arrives (no hosts, or the CloudWatch agent is down)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.http_5xx_rate_threshold
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = local.namespace
      metric_name = aws_cloudwatch_log_metric_filter.http_5xx.metric_transformation[0].name
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = local.namespace
      metric_name = aws_cloudwatch_log_metric_filter.requests.metric_transformation[0].name
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = "${var.name}-latency-p99"
  alarm_description   = "99th percentile of nginx request time above ${var.latency_p99_threshold_seconds} s for 15 minutes (health checks excluded)."
  namespace           = local.namespace
  metric_name         = aws_cloudwatch_log_metric_filter.request_time.metric_transformation[0].name
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_p99_threshold_seconds
  # No user request in a period is not a latency problem; the 5xx alarm
  # covers logs that stop arriving.
  treat_missing_data = "missing"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "app_errors" {
  alarm_name          = "${var.name}-app-errors"
  alarm_description   = "The application logged at level \"error\" in the last 5 minutes: read the lines in ${local.log_groups.app} (filter { $.level = \"error\" })."
  namespace           = local.namespace
  metric_name         = aws_cloudwatch_log_metric_filter.app_errors.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # A quiet application logs little: no data is no error. The 5xx alarm
  # covers logs that stop arriving.
  treat_missing_data = "missing"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${var.name}-unhealthy-hosts"
  alarm_description   = "At least one host fails the load balancer health check (/api/health)."
  namespace           = "AWS/NetworkELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    LoadBalancer = var.nlb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }
}

resource "aws_cloudwatch_metric_alarm" "healthy_hosts" {
  alarm_name          = "${var.name}-healthy-hosts"
  alarm_description   = "Fewer healthy hosts than the Auto Scaling group's minimum (${var.min_healthy_hosts}) for 5 minutes."
  namespace           = "AWS/NetworkELB"
  metric_name         = "HealthyHostCount"
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_healthy_hosts
  # An empty group (first apply) publishes nothing and expects nothing.
  treat_missing_data = var.min_healthy_hosts > 0 ? "breaching" : "missing"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions

  dimensions = {
    LoadBalancer = var.nlb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }
}

# ACM renews 60 days ahead; an expiry this close means renewal failed (the
# validation record is gone, or the certificate was imported).
resource "aws_cloudwatch_metric_alarm" "certificate_expiry" {
  alarm_name          = "${var.name}-certificate-expiry"
  alarm_description   = "The load balancer's certificate expires in less than ${var.certificate_min_days} days."
  namespace           = "AWS/CertificateManager"
  metric_name         = "DaysToExpiry"
  statistic           = "Minimum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.certificate_min_days
  # ACM publishes once a day.
  treat_missing_data = "missing"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions

  dimensions = {
    CertificateArn = var.certificate_arn
  }
}

# A launch that fails (capacity, permissions, a bad AMI or launch template)
# has no CloudWatch metric: the Auto Scaling event goes to the alarm topic.
resource "aws_cloudwatch_event_rule" "launch_failed" {
  name        = "${var.name}-launch-failed"
  description = "An instance launch of ${var.asg_name} failed."

  event_pattern = jsonencode({
    source      = ["aws.autoscaling"]
    detail-type = ["EC2 Instance Launch Unsuccessful"]
    detail      = { AutoScalingGroupName = [var.asg_name] }
  })
}

resource "aws_cloudwatch_event_target" "launch_failed" {
  rule      = aws_cloudwatch_event_rule.launch_failed.name
  target_id = "alarm-topic"
  arn       = aws_sns_topic.alarms.arn
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "${var.name}-db-cpu"
  alarm_description   = "Database CPU above ${var.db_cpu_threshold}% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.db_cpu_threshold
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    DBInstanceIdentifier = var.db_identifier
  }
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = "${var.name}-db-free-storage"
  alarm_description   = "Database free storage below ${floor(var.db_free_storage_threshold_bytes / 1073741824)} GiB."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.db_free_storage_threshold_bytes
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    DBInstanceIdentifier = var.db_identifier
  }
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${var.name}-db-connections"
  alarm_description   = "Database connections above 80% of max_connections (${var.db_max_connections}): hosts x workers plus migrations are running out of room."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = floor(var.db_max_connections * 0.8)
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    DBInstanceIdentifier = var.db_identifier
  }
}

resource "aws_cloudwatch_metric_alarm" "db_memory" {
  alarm_name          = "${var.name}-db-freeable-memory"
  alarm_description   = "Database freeable memory below ${floor(var.db_freeable_memory_threshold_bytes / 1048576)} MiB for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "FreeableMemory"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = var.db_freeable_memory_threshold_bytes
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    DBInstanceIdentifier = var.db_identifier
  }
}

# RDS runs burstable classes in unlimited mode: the balance starts at 0 and
# is never "about to throttle", so an alarm on CPUCreditBalance would fire
# from creation on. What costs money is CPU above the baseline once the
# balance is spent: surplus credits charged at the end of the hour.
resource "aws_cloudwatch_metric_alarm" "db_cpu_credits" {
  count = local.db_burstable ? 1 : 0

  alarm_name          = "${var.name}-db-cpu-credits"
  alarm_description   = "Database CPU above its burstable baseline is being charged (CPUSurplusCreditsCharged): sustained load wants a larger or non-burstable class."
  namespace           = "AWS/RDS"
  metric_name         = "CPUSurplusCreditsCharged"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.db_cpu_credit_threshold
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    DBInstanceIdentifier = var.db_identifier
  }
}

# --- Database and backup events --------------------------------------------
# A failover, a failed backup or a storage problem has no metric to alarm on:
# RDS and AWS Backup publish their events to the alarm topic.

resource "aws_db_event_subscription" "this" {
  name        = "${var.name}-db-events"
  sns_topic   = aws_sns_topic.alarms.arn
  source_type = "db-instance"
  source_ids  = [var.db_identifier]
  event_categories = [
    "availability",
    "backup",
    "failover",
    "failure",
    "low storage",
    "maintenance",
    "notification",
    "recovery",
    "restoration",
  ]
}

resource "aws_backup_vault_notifications" "this" {
  count = var.backup_vault_name == null ? 0 : 1

  backup_vault_name = var.backup_vault_name
  sns_topic_arn     = aws_sns_topic.alarms.arn
  backup_vault_events = [
    "BACKUP_JOB_FAILED",
    "BACKUP_JOB_EXPIRED",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_COMPLETED",
    "S3_BACKUP_OBJECT_FAILED",
  ]
}
