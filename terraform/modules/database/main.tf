# PostgreSQL 15 on RDS in the private subnets: encrypted, TLS enforced, the
# master password owned by RDS in Secrets Manager (never in Terraform state).

resource "aws_db_subnet_group" "this" {
  name        = var.identifier
  description = "Private subnets of ${var.identifier}"
  subnet_ids  = var.subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.identifier}-"
  family      = "postgres15"
  description = "EasySKS PostgreSQL 15"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  # An audit trail of schema changes (migrations, manual fixes).
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  backup_window      = "02:00-03:00"
  maintenance_window = "sun:03:30-sun:04:30"
}

# Created here (rather than by RDS on first export) so it has a retention.
resource "aws_cloudwatch_log_group" "postgresql" {
  name              = "/aws/rds/instance/${var.identifier}/postgresql"
  retention_in_days = var.log_retention_days
}

resource "aws_db_instance" "this" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name                     = var.db_name
  username                    = var.master_username
  manage_master_user_password = true

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false
  multi_az               = var.multi_az

  # UTC. The AWS Backup plan below starts at 05:00, after both windows: a
  # snapshot job cannot run while RDS takes its own backup.
  backup_retention_period = var.backup_retention_period
  backup_window           = local.backup_window
  maintenance_window      = local.maintenance_window
  # false: changes wait for the maintenance window (Sunday); true for one
  # apply applies them now (a class change restarts the instance).
  apply_immediately          = var.apply_immediately
  auto_minor_version_upgrade = true
  copy_tags_to_snapshot      = true
  deletion_protection        = var.deletion_protection
  skip_final_snapshot        = !var.deletion_protection
  # Unique per instance: the name is fixed at creation (ignore_changes
  # below), so a rebuilt instance never collides with an earlier instance's
  # final snapshot, which would make the destroy fail.
  final_snapshot_identifier = "${var.identifier}-final-${formatdate("YYYYMMDDhhmmss", plantimestamp())}"

  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_retention_period = var.performance_insights_enabled ? 7 : null
  enabled_cloudwatch_logs_exports       = ["postgresql"]

  depends_on = [aws_cloudwatch_log_group.postgresql]

  lifecycle {
    ignore_changes = [final_snapshot_identifier]
  }
}

# --- AWS Backup (backup_plan) ------------------------------------------------
# Automated backups give point-in-time recovery within backup_retention_period
# and disappear with the instance. The plan adds daily snapshots kept 35 days
# and monthly ones kept a year, in a vault of their own, independent of the
# instance's lifetime. Restore drill: docs/runbook.md.

resource "aws_backup_vault" "this" {
  count = var.backup_plan ? 1 : 0

  name = var.identifier
}

resource "aws_backup_plan" "this" {
  count = var.backup_plan ? 1 : 0

  name = var.identifier

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this[0].name
    schedule          = "cron(0 5 * * ? *)"
    start_window      = 60
    completion_window = 300

    lifecycle {
      delete_after = 35
    }
  }

  rule {
    rule_name         = "monthly"
    target_vault_name = aws_backup_vault.this[0].name
    schedule          = "cron(0 6 1 * ? *)"
    start_window      = 60
    completion_window = 300

    lifecycle {
      delete_after = 365
    }
  }
}

data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  count = var.backup_plan ? 1 : 0

  name_prefix        = "${var.identifier}-backup-"
  assume_role_policy = data.aws_iam_policy_document.backup_assume.json
}

resource "aws_iam_role_policy_attachment" "backup" {
  count = var.backup_plan ? 1 : 0

  role       = aws_iam_role.backup[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}

resource "aws_backup_selection" "this" {
  count = var.backup_plan ? 1 : 0

  name         = var.identifier
  plan_id      = aws_backup_plan.this[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = [aws_db_instance.this.arn]
}
