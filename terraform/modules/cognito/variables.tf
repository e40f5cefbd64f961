variable "name" {
  description = "Name of the user pool and app client, e.g. easysks-staging."
  type        = string
}

variable "zone_id" {
  description = "Route 53 zone of mail_domain (the SES identity's DKIM records)."
  type        = string
}

variable "mail_domain" {
  description = "Domain Cognito's mail is sent from through SES (verified with Easy DKIM in zone_id)."
  type        = string
}

variable "mail_from_local_part" {
  description = "Local part of the sender address (<local>@mail_domain)."
  type        = string
  default     = "no-reply"
}

variable "threat_protection" {
  description = "Cognito threat protection of a created pool: OFF, AUDIT or ENFORCED (the last two use the Plus feature plan, billed per monthly active user)."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.threat_protection)
    error_message = "threat_protection must be OFF, AUDIT or ENFORCED."
  }
}

variable "existing_user_pool_id" {
  description = "Use this existing user pool (e.g. eu-central-1_AbC123) instead of creating one; only the app client is managed then."
  type        = string
  default     = null

  validation {
    condition     = var.existing_user_pool_id == null || can(regex("^[a-z]{2}-[a-z]+-[0-9]_[0-9A-Za-z]+$", var.existing_user_pool_id))
    error_message = "existing_user_pool_id must look like <region>_<id>."
  }
}

variable "domain_prefix" {
  description = "Prefix of the hosted UI domain <prefix>.auth.<region>.amazoncognito.com; unique per region."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !strcontains(var.domain_prefix, "aws") && !strcontains(var.domain_prefix, "cognito")
    error_message = "domain_prefix must be lowercase letters, digits and hyphens, and must not contain aws or cognito."
  }
}

variable "callback_urls" {
  description = "Allowed redirect URLs after sign-in (https, or http://localhost for development)."
  type        = list(string)

  validation {
    condition     = length(var.callback_urls) > 0 && alltrue([for url in var.callback_urls : can(regex("^(https://|http://localhost[:/])", url))])
    error_message = "callback_urls must be non-empty and use https (http only for localhost)."
  }
}

variable "logout_urls" {
  description = "Allowed redirect URLs after sign-out."
  type        = list(string)
}

variable "mfa_configuration" {
  description = "OFF, OPTIONAL (users may enrol a TOTP app) or ON (everyone must)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "password_minimum_length" {
  description = "Minimum password length."
  type        = number
  default     = 12

  validation {
    condition     = var.password_minimum_length >= 8 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be between 8 and 99."
  }
}

variable "allow_user_password_auth" {
  description = "Also allow USER_PASSWORD_AUTH (plain password to Cognito) for scripted smoke tests; keep false in prod."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool (and with it every account)."
  type        = bool
}
