# Per-environment values. envs/<env>/main.tf passes what differs between
# staging and production (as literals) and the inputs of whoever applies;
# a value both environments share is a default here (tf-check: env-common).

variable "environment" {
  description = "staging or prod: EASYSKS_ENV, names (easysks-<env>), parameter and log paths."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

# --- Public name -------------------------------------------------------------

variable "app_hostname" {
  description = "Public host name: ACM certificate, Route 53 alias, Cognito redirects."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone holding app_hostname."
  type        = string
}

# --- Hosts -------------------------------------------------------------------

variable "hosts_enabled" {
  description = "false: create the Auto Scaling group empty (first apply, before a release is published); true: run min/max/desired hosts."
  type        = bool
}

variable "ami_id" {
  description = "Pinned Debian 12 AMI; null follows the newest official image."
  type        = string
  default     = null
}

variable "instance_type" {
  description = "EC2 instance type of the hosts."
  type        = string
}

variable "min_instances" {
  description = "Minimum number of hosts."
  type        = number
}

variable "max_instances" {
  description = "Maximum number of hosts."
  type        = number
}

variable "desired_instances" {
  description = "Hosts at creation (afterwards CPU target tracking decides)."
  type        = number
}

variable "worker_count" {
  description = "FastCGI workers per host (EASYSKS_WORKERS)."
  type        = number
}

variable "ai_jobs_parallel" {
  description = "AI_JOBS_PARALLEL: grading processes of easysks-jobs per host (each holds a database connection)."
  type        = number
  default     = 2
}

variable "ai_enabled" {
  description = "false switches AI grading off: the hosts are not given the OpenAI key's secret (never delete the secret for that: docs/runbook.md)."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "LOG_LEVEL of the application."
  type        = string
}

variable "stripe_price_id" {
  description = "Stripe price of the premium plan."
  type        = string
}

# --- Network -----------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
}

variable "availability_zones" {
  description = "The two availability zones of the subnets, by name."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper) instead of one per AZ."
  type        = bool
}

# --- Users -------------------------------------------------------------------

variable "cognito_user_pool_id" {
  description = "An existing Cognito user pool to use (only an app client is created in it); null creates a pool."
  type        = string
  default     = null
}

variable "cognito_domain_prefix" {
  description = "Hosted UI domain prefix of a created pool; ignored with cognito_user_pool_id."
  type        = string
}

variable "extra_callback_urls" {
  description = "Sign-in and sign-out redirect URLs besides https://<app_hostname>/ (e.g. a local frontend in staging)."
  type        = list(string)
  default     = []
}

variable "cognito_threat_protection" {
  description = "Threat protection of a created user pool: OFF, AUDIT or ENFORCED (Plus feature plan, billed per monthly active user: docs/terraform.md)."
  type        = string
  default     = "OFF"
}

variable "allow_user_password_auth" {
  description = "USER_PASSWORD_AUTH: the web client sends the password over TLS to Cognito (never to our hosts; it has no SRP yet, docs/web.md), and deploy/smoke.sh signs in with it. false leaves the web client unable to sign in."
  type        = bool
  default     = true
}

# --- Data --------------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_multi_az" {
  description = "Run a standby database in the second AZ."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups (point-in-time recovery)."
  type        = number
}

variable "db_backup_plan" {
  description = "Also copy daily and monthly snapshots into an AWS Backup vault (kept beyond the automated backups' window and the instance's lifetime)."
  type        = bool
}

variable "db_performance_insights" {
  description = "Enable Performance Insights (7 days, free tier)."
  type        = bool
}

variable "db_max_connections" {
  description = "max_connections of the database, if set in a parameter group of its own; null derives it from db_instance_class's memory like RDS does. The connections alarm fires at 80 % of it."
  type        = number
  default     = null
}

variable "db_apply_immediately" {
  description = "Apply database changes now (true, for one apply) instead of in the Sunday maintenance window."
  type        = bool
  default     = false
}

# --- Lifetimes and protection ------------------------------------------------

variable "deletion_protection" {
  description = "Refuse to delete the database, load balancer and user pool; take a final database snapshot."
  type        = bool
}

variable "teardown_friendly" {
  description = "Allow destroying non-empty buckets (staging only)."
  type        = bool
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored."
  type        = number
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps application, nginx and PostgreSQL logs."
  type        = number
}

variable "alarm_email" {
  description = "Address that receives alarms; null for none (staging only: prod requires one)."
  type        = string
  default     = null
}
