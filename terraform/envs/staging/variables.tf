variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-central-1"
}

variable "app_hostname" {
  description = "Public host name of the environment (certificate, DNS alias, Cognito redirects), e.g. staging.example.org."
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
  description = "Pin the Debian 12 AMI (ami-...); null follows the newest official image (a new image then only creates a launch template version)."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be null or an AMI ID (ami-...)."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
  default     = "10.20.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper; an AZ outage cuts the other AZ's egress)."
  type        = bool
  default     = true
}

variable "instance_type" {
  description = "EC2 instance type of the hosts."
  type        = string
  default     = "t3.small"
}

variable "min_instances" {
  description = "Minimum number of hosts."
  type        = number
  default     = 1
}

variable "max_instances" {
  description = "Maximum number of hosts."
  type        = number
  default     = 2
}

variable "desired_instances" {
  description = "Hosts at creation (afterwards CPU target tracking decides)."
  type        = number
  default     = 1
}

variable "worker_count" {
  description = "FastCGI workers per host (EASYSKS_WORKERS); max_instances x worker_count must stay below db_max_connections with room for migrations."
  type        = number
  default     = 4
}

variable "log_level" {
  description = "LOG_LEVEL of the application."
  type        = string
  default     = "debug"
}

variable "stripe_price_id" {
  description = "Stripe price of the premium plan (a test-mode price in staging)."
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
  default     = "easysks-staging"
}

variable "extra_callback_urls" {
  description = "Redirect URLs besides https://<app_hostname>/: the local frontend against the staging pool."
  type        = list(string)
  default     = ["https://localhost:8443/"]
}

variable "allow_user_password_auth" {
  description = "USER_PASSWORD_AUTH for the scripted smoke test (deploy/smoke.sh signs in without SRP)."
  type        = bool
  default     = true
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "db_max_connections" {
  description = "max_connections of db_instance_class (RDS derives it from memory: about 80 for db.t4g.micro); the connections alarm fires at 80 %."
  type        = number
  default     = 80
}

variable "db_multi_az" {
  description = "Run a standby database in the second AZ."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "db_backup_plan" {
  description = "AWS Backup plan on top of the automated backups (daily snapshots kept 35 days, monthly kept a year)."
  type        = bool
  default     = false
}

variable "db_performance_insights" {
  description = "Performance Insights on the database (7 days, free tier)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Deletion protection of the database, load balancer and user pool, and a final database snapshot on destroy."
  type        = bool
  default     = false
}

variable "teardown_friendly" {
  description = "Let terraform destroy non-empty buckets."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps application, nginx and PostgreSQL logs (30: enough to debug a release, little personal data kept)."
  type        = number
  default     = 30
}

variable "alarm_email" {
  description = "Address that receives alarms; null for none."
  type        = string
  default     = null
}
