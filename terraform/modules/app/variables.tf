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
  description = "Pin an AMI; null takes the newest official Debian 12 amd64 image (a new image then rolls the fleet on apply)."
  type        = string
  default     = null
}

variable "root_volume_size" {
  description = "Root volume size in GiB (encrypted gp3)."
  type        = number
  default     = 16
}

variable "min_size" {
  description = "Minimum number of instances."
  type        = number

  validation {
    condition     = var.min_size >= 1
    error_message = "min_size must be at least 1."
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

variable "refresh_min_healthy_percentage" {
  description = "Capacity kept in service during an instance refresh; 100 with a 200% ceiling launches replacements before terminating."
  type        = number
  default     = 100
}

variable "enable_ssm" {
  description = "Attach AmazonSSMManagedInstanceCore so operators get Session Manager shells (no SSH port is open)."
  type        = bool
  default     = true
}

variable "user_data_template_path" {
  description = "cloud-init template rendered with env, region, release_bucket, release_version, frontend_bucket, app_env, secret_arns and log_groups; null means deploy/cloud-init/user-data.yaml.tftpl of this repository, seen from terraform/envs/<env>."
  type        = string
  default     = null
}

# --- Application -----------------------------------------------------------

variable "release_version" {
  description = "Release the hosts install from the release bucket; changing it rolls the fleet."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*$", var.release_version))
    error_message = "release_version may contain letters, digits, dots, underscores and hyphens only."
  }
}

variable "worker_count" {
  description = "FastCGI workers per host (EASYSKS_WORKERS); each holds one PostgreSQL connection."
  type        = number

  validation {
    condition     = var.worker_count >= 1 && var.worker_count <= 64
    error_message = "worker_count must be between 1 and 64."
  }
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
  description = "Secrets the hosts fetch at service start, keyed by setting name (DATABASE_URL, STRIPE_API_KEY, ...)."
  type        = map(string)
}

variable "db_master_secret_arn" {
  description = "RDS-managed master secret; the hosts read it (as DB_MASTER_SECRET) to run migrations."
  type        = string
}

variable "log_groups" {
  description = "CloudWatch log groups the hosts write to, keyed app, nginx_access, nginx_error."
  type        = map(object({ name = string, arn = string }))
}
