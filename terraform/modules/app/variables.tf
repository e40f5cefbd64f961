variable "name" {
  description = "Name prefix of the load balancer, instances and IAM role, e.g. easysks-staging."
  type        = string
}

variable "environment" {
  description = "EASYSKS_ENV on the hosts."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "tags" {
  description = "Tags the Auto Scaling group propagates to its instances (ASGs ignore the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# --- Network ---------------------------------------------------------------

variable "vpc_id" {
  description = "VPC of the target groups."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer, one per AZ."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the instances, one per AZ."
  type        = list(string)
}

variable "nlb_security_group_id" {
  description = "Security group of the load balancer."
  type        = string
}

variable "instance_security_group_id" {
  description = "Security group of the instances."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of the public host name, served by the load balancer's TLS listener."
  type        = string
}

variable "tls_policy" {
  description = "Security policy of the TLS listener (TLS 1.2 and 1.3, forward secrecy)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "nlb_deletion_protection" {
  description = "Refuse to delete the load balancer (its DNS name is what the public records point at)."
  type        = bool
  default     = false
}

# --- Instances -------------------------------------------------------------

variable "instance_type" {
  description = "EC2 instance type of the hosts."
  type        = string
}

variable "ami_id" {
  description = "AMI of the hosts (Debian 12 amd64); the stack module resolves it (pinned in prod). A new value only creates a launch template version: deploy/aws/roll.sh --launch-template rolls it out."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI ID (ami-...)."
  }
}

variable "root_device_name" {
  description = "Root device name of the AMI (the encrypted gp3 root volume is mapped onto it)."
  type        = string
  default     = "/dev/xvda"
}

variable "root_volume_size" {
  description = "Root volume size in GiB (encrypted gp3)."
  type        = number
  default     = 16
}

variable "min_size" {
  description = "Minimum number of instances; 0 only before the first release (two-phase first apply, docs/runbook.md)."
  type        = number

  validation {
    condition     = var.min_size >= 0
    error_message = "min_size must not be negative."
  }
}

variable "max_size" {
  description = "Maximum number of instances."
  type        = number

  validation {
    condition     = var.max_size >= var.min_size
    error_message = "max_size must not be smaller than min_size."
  }
}

variable "desired_capacity" {
  description = "Instances at creation; afterwards the CPU target tracking policy owns the count."
  type        = number

  validation {
    condition     = var.desired_capacity >= var.min_size && var.desired_capacity <= var.max_size
    error_message = "desired_capacity must lie between min_size and max_size."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation the Auto Scaling group scales towards."
  type        = number
  default     = 60
}

variable "enable_ssm" {
  description = "Grant the SSM agent (installed at boot) what Run Command and Session Manager need; deploy/aws/migrate.sh depends on it and no SSH port is open."
  type        = bool
  default     = true
}

variable "ready_hook_timeout_seconds" {
  description = "Heartbeat timeout of the launch lifecycle hook: how long a new host may wait for readiness before it is abandoned (covers a first deploy waiting for its migrations)."
  type        = number
  default     = 1800

  validation {
    condition     = var.ready_hook_timeout_seconds >= 300 && var.ready_hook_timeout_seconds <= 7200
    error_message = "ready_hook_timeout_seconds must be between 300 and 7200."
  }
}

variable "ready_timeout_seconds" {
  description = "How long the bootstrap waits for /api/health before abandoning the launch, unless the only thing missing is the schema (then it waits up to the hook's timeout)."
  type        = number
  default     = 600
}

variable "host_metrics_namespace" {
  description = "CloudWatch namespace of the agent's host metrics (memory, disk); the only namespace the host role may write."
  type        = string
  default     = "EasySKS/Host"
}

variable "host_scripts_dir" {
  description = "Directory of the host scripts embedded in the user data (install-agents.sh, bootstrap.sh, install-release.sh): deploy/host of the repository, passed by the caller."
  type        = string
}

variable "user_data_template_path" {
  description = "cloud-init template (see docs/terraform.md, host bootstrap contract): deploy/cloud-init/user-data.yaml.tftpl of the repository, passed by the caller."
  type        = string
}

variable "busy_workers_target_percent" {
  description = "Target tracking on BusyWorkersPercent (share of the pool's workers busy, published by easysks-pool-watch): scale out above, in below."
  type        = number
  default     = 50

  validation {
    condition     = var.busy_workers_target_percent >= 10 && var.busy_workers_target_percent <= 90
    error_message = "busy_workers_target_percent must be between 10 and 90."
  }
}

# --- Application -----------------------------------------------------------

variable "worker_count" {
  description = "FastCGI workers per host (EASYSKS_WORKERS); each holds one PostgreSQL connection."
  type        = number

  validation {
    condition     = var.worker_count >= 1 && var.worker_count <= 64
    error_message = "worker_count must be between 1 and 64."
  }
}

variable "ai_jobs_parallel" {
  description = "AI_JOBS_PARALLEL: grading processes of easysks-jobs per host; each holds one PostgreSQL connection."
  type        = number
  default     = 4

  validation {
    condition     = var.ai_jobs_parallel >= 1 && var.ai_jobs_parallel <= 64
    error_message = "ai_jobs_parallel must be between 1 and 64."
  }
}

variable "user_pool_arn" {
  description = "ARN of the Cognito user pool (deploy/aws/admin.sh looks learners up in it: cognito-idp:ListUsers)."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of the application."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "auth_issuer" {
  description = "AUTH_ISSUER: the Cognito user pool issuer URL."
  type        = string
}

variable "auth_jwks_url" {
  description = "AUTH_JWKS_URL: the user pool's JWKS URL."
  type        = string
}

variable "auth_client_ids" {
  description = "AUTH_CLIENT_IDS: app client IDs whose tokens are accepted."
  type        = list(string)
}

variable "app_hostname" {
  description = "The public host name; Stripe's return URLs point at its web client pages."
  type        = string
}

variable "stripe_price_id" {
  description = "STRIPE_PRICE_ID of the premium subscription (not a secret)."
  type        = string
}

variable "release_bucket" {
  description = "Name and ARN of the release bucket."
  type        = object({ name = string, arn = string })
}

variable "frontend_bucket" {
  description = "Name and ARN of the frontend bundle bucket."
  type        = object({ name = string, arn = string })
}

variable "secret_arns" {
  description = "Secrets the pool fetches at service start, keyed by setting name (DATABASE_URL, STRIPE_API_KEY, ...)."
  type        = map(string)
}

variable "db_master_secret_arn" {
  description = "RDS-managed master secret; only the migration unit reads it (as the easysks-migrate user)."
  type        = string
}

variable "db_instance_arn" {
  description = "ARN of the database, which the deployer snapshots before migrations."
  type        = string
}

variable "log_groups" {
  description = "CloudWatch log groups the hosts write to, keyed app, nginx_access, nginx_error."
  type        = map(object({ name = string, arn = string }))
}
