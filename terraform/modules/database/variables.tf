variable "identifier" {
  description = "RDS instance identifier, e.g. easysks-staging."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two AZs) for the DB subnet group."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "security_group_id" {
  description = "Security group of the database (accepts 5432 from the application hosts only)."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL version. A major version alone (\"15\") lets RDS apply minor upgrades."
  type        = string
  default     = "15"

  validation {
    condition     = can(regex("^15(\\.[0-9]+)?$", var.engine_version))
    error_message = "The application targets PostgreSQL 15."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "allocated_storage" {
  description = "Initial storage in GiB (gp3)."
  type        = number
  default     = 20
}

variable "max_allocated_storage" {
  description = "Upper bound in GiB for storage autoscaling."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage >= var.allocated_storage
    error_message = "max_allocated_storage must not be smaller than allocated_storage."
  }
}

variable "db_name" {
  description = "Name of the application database."
  type        = string
  default     = "easysks"
}

variable "master_username" {
  description = "Master (owner) user; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  default     = "easysks_owner"
}

variable "backup_retention_period" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number

  validation {
    condition     = var.backup_retention_period >= 1 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be between 1 and 35 days."
  }
}

variable "backup_plan" {
  description = "Add an AWS Backup plan (daily snapshots kept 35 days, monthly kept 365) on top of the automated backups."
  type        = bool
  default     = false
}

variable "multi_az" {
  description = "Keep a synchronous standby in the second AZ."
  type        = bool
}

variable "deletion_protection" {
  description = "Refuse to delete the instance; also decides whether a final snapshot is taken on destroy."
  type        = bool
}

variable "performance_insights_enabled" {
  description = "Enable Performance Insights (7 days retention is free)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL log in CloudWatch."
  type        = number
}

variable "log_min_duration_statement_ms" {
  description = "Log statements slower than this many milliseconds (-1 disables)."
  type        = number
  default     = 500
}

variable "apply_immediately" {
  description = "Apply instance changes now instead of in the maintenance window (Sunday 03:30 UTC)."
  type        = bool
  default     = false
}
