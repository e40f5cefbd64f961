# Inputs of whoever applies (terraform.tfvars). The environment's fixed
# settings are literals in main.tf; everything shared is modules/stack.

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

variable "stripe_price_id" {
  description = "Stripe price of the premium plan (a test-mode price in staging)."
  type        = string
}

variable "cognito_user_pool_id" {
  description = "Existing Cognito user pool to use (only an app client is created in it); null creates one (see docs/terraform.md for the cutover)."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "Address that receives alarms; null for none."
  type        = string
  default     = null
}

variable "availability_zones" {
  description = "The two availability zones of the subnets (of var.region). Changing them replaces every subnet."
  type        = list(string)
  default     = ["eu-central-1a", "eu-central-1b"]
}

variable "db_apply_immediately" {
  description = "true for one apply: database changes (class, parameters) now instead of in the Sunday maintenance window."
  type        = bool
  default     = false
}

variable "ai_enabled" {
  description = "false switches AI grading off (the hosts no longer get the OpenAI key; then roll.sh --launch-template). Never delete the secret for that."
  type        = bool
  default     = true
}
