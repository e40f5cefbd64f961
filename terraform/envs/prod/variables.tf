variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-central-1"
}

variable "app_hostname" {
  description = "Public host name of the environment (nginx certificate, Cognito redirects), e.g. example.org."
  type        = string
}

variable "cognito_domain_prefix" {
  description = "Hosted UI domain prefix; must be unused in the region."
  type        = string
  default     = "easysks"
}

variable "release_version" {
  description = "Release to run; deploy scripts pass it (-var release_version=...)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
  default     = "10.30.0.0/16"
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
  description = "FastCGI workers per host (EASYSKS_WORKERS); max_instances x worker_count must stay below the database's max_connections."
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

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
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

variable "log_retention_days" {
  description = "Days CloudWatch keeps application, nginx and PostgreSQL logs (90: covers incident and abuse investigations, then personal data ages out)."
  type        = number
  default     = 90
}

variable "alarm_email" {
  description = "Address that receives alarms; null for none."
  type        = string
  default     = null
}
