variable "name" {
  description = "Name prefix of alarms and the SNS topic, e.g. easysks-staging."
  type        = string
}

variable "environment" {
  description = "Environment name; part of the log group paths and the metric namespace."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps application and nginx logs (they hold client IPs and user IDs)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...); never 0 (keep forever)."
  }
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic; null for none (the subscription must be confirmed by mail)."
  type        = string
  default     = null
}

variable "nlb_arn_suffix" {
  description = "arn_suffix of the network load balancer."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "arn_suffix of the HTTPS target group whose unhealthy hosts are alarmed on."
  type        = string
}

variable "db_identifier" {
  description = "RDS instance identifier."
  type        = string
}

variable "http_5xx_rate_threshold" {
  description = "Alarm when more than this percentage of requests answer 5xx over two 5-minute periods."
  type        = number
  default     = 5
}

variable "db_cpu_threshold" {
  description = "Alarm when the database CPU stays above this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "db_free_storage_threshold_bytes" {
  description = "Alarm when free database storage falls below this many bytes."
  type        = number
  default     = 2147483648
}
