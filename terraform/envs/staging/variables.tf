variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-central-1"
}

variable "app_hostname" {
  description = "Public host name of the environment (nginx certificate, Cognito redirects), e.g. staging.example.org."
  type        = string
}

variable "cognito_domain_prefix" {
  description = "Hosted UI domain prefix; must be unused in the region."
  type        = string
  default     = "easysks-staging"
}

variable "release_version" {
  description = "Release to run; deploy scripts pass it (-var release_version=...)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
  default     = "10.20.0.0/16"
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
  description = "FastCGI workers per host (EASYSKS_WORKERS)."
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

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "db_multi_az" {
  description = "Run a standby database in the second AZ."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups."
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
