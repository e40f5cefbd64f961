variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-central-1"
}

variable "app_hostname" {
  description = "Public host name of the environment (certificate, DNS alias, Cognito redirects), e.g. example.org."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds app_hostname (alias record and certificate validation)."
  type        = string
}

variable "hosts_enabled" {
  description = "false on the very first apply (no release published yet: the Auto Scaling group stays empty), true from then on (docs/runbook.md, first deploy). No default: forgetting it must fail, not scale the environment to zero."
  type        = bool
}

variable "ami_id" {
  description = "The Debian 12 AMI of the hosts (ami-...), pinned: a new image is a deliberate change, rolled out by deploy/aws/roll.sh --launch-template."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI ID (ami-...)."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
  default     = "10.30.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway per AZ (false) survives an AZ outage."
  type        = bool
  default     = false
}

variable "instance_type" {
  description = "EC2 instance type of the hosts."
  type        = string
  default     = "t3.medium"
}

variable "min_instances" {
  description = "Minimum number of hosts; two keep one per AZ."
  type        = number
  default     = 2
}

variable "max_instances" {
  description = "Maximum number of hosts."
  type        = number
  default     = 6
}

variable "desired_instances" {
  description = "Hosts at creation (afterwards CPU target tracking decides)."
  type        = number
  default     = 2
}

variable "worker_count" {
  description = "FastCGI workers per host (EASYSKS_WORKERS); max_instances x worker_count must stay below db_max_connections with room for migrations."
  type        = number
  default     = 8
}

variable "log_level" {
  description = "LOG_LEVEL of the application."
  type        = string
  default     = "info"
}

variable "stripe_price_id" {
  description = "Stripe price of the premium plan (live mode)."
  type        = string
}

variable "cognito_user_pool_id" {
  description = "Existing Cognito user pool to use (only an app client is created in it); null creates one (see docs/terraform.md for the cutover)."
  type        = string
  default     = null
}

variable "cognito_domain_prefix" {
  description = "Hosted UI domain prefix of a created pool; must be unused in the region."
  type        = string
  default     = "easysks"
}

variable "extra_callback_urls" {
  description = "Redirect URLs besides https://<app_hostname>/."
  type        = list(string)
  default     = []
}

variable "allow_user_password_auth" {
  description = "USER_PASSWORD_AUTH: the web client sends the password over TLS to Cognito (never to our hosts); it has no SRP yet (docs/web.md). false leaves the web client unable to sign in."
  type        = bool
  default     = true
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_max_connections" {
  description = "max_connections of db_instance_class (RDS derives it from memory: about 410 for db.t4g.medium); the connections alarm fires at 80 %."
  type        = number
  default     = 410
}

variable "db_multi_az" {
  description = "Run a standby database in the second AZ."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7
    error_message = "Production keeps at least 7 days of database backups."
  }
}

variable "db_backup_plan" {
  description = "AWS Backup plan on top of the automated backups (daily snapshots kept 35 days, monthly kept a year)."
  type        = bool
  default     = true
}

variable "db_performance_insights" {
  description = "Performance Insights on the database (7 days, free tier)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Deletion protection of the database, load balancer and user pool, and a final database snapshot on destroy."
  type        = bool
  default     = true
}

variable "teardown_friendly" {
  description = "Let terraform destroy non-empty buckets."
  type        = bool
  default     = false
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps application, nginx and PostgreSQL logs (90: covers incident and abuse investigations, then personal data ages out)."
  type        = number
  default     = 90
}

variable "alarm_email" {
  description = "Address that receives alarms (confirm the subscription mail). Required: production alarms must reach someone."
  type        = string

  validation {
    condition     = can(regex("^[^@ ]+@[^@ ]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address."
  }
}
